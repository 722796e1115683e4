/* _accel: the probe's hot path in C (optional; capture.py and _dispatch.py fall back to
 * their pure-Python versions, which stay the definition).
 *
 * - site(): the call site of send(), as _dispatch._site_py() computes it.
 * - Enter/Nest: Recorder.enter and capture._Nest (nesting), ThreadState: _ThreadState.
 * - Finisher: Recorder._finish_py for the common dispatch (every receiver ran and
 *   returned, the signal's name known and not ignored): builds the same event from the
 *   same caches, describes the common kwargs values itself (Describer.kwargs) and calls
 *   the Describer for the rest, and when the sink is the Publisher's own submit() packs
 *   the event (the msgpack writer below, msgspec for anything it leaves) and queues it
 *   exactly as submit() does. Every other dispatch, and any doubt, goes to the Python
 *   Recorder._finish_py unchanged. Its begin_request() is Recorder.begin_request for a
 *   WSGI environ of plain strings.
 *
 * Never raises into the application: failures are counted through recorder.on_failure()
 * like the Python version's ``except Exception``; only BaseExceptions that are not
 * Exceptions (KeyboardInterrupt...) propagate, as there.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <frameobject.h>
#include <structmember.h>
#include <limits.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#if PY_VERSION_HEX < 0x030B0000
#error "django_probe._accel needs Python 3.11+ (PyFrame_GetLasti); the Python path is used"
#endif

/* ------------------------------------------------------------------ call sites */

static PyObject *site_skip_files; /* set of filenames of the dispatcher and the hook */

/* (code, instruction offset) -> (file, line, func): computing a line number walks the
 * code's line table, so each call site is computed once. An open-addressing table keyed
 * by the code object's address, which it pins with a strong reference (code objects
 * only: no function, closure or instance is kept alive), like _dispatch._sites. */
typedef struct {
    PyObject *code; /* NULL: empty slot */
    int lasti;
    PyObject *site;
} SiteEntry;

#define SITE_SLOTS 16384 /* a power of two */
#define SITE_MAX 10000   /* then cleared, like _sites: code generated at run time */
static SiteEntry *site_table;
static Py_ssize_t site_count;

static void site_clear(void) {
    if (!site_table) return;
    for (Py_ssize_t i = 0; i < SITE_SLOTS; i++) {
        Py_CLEAR(site_table[i].code);
        Py_CLEAR(site_table[i].site);
    }
    site_count = 0;
}

static PyObject *outcome_returned, *outcome_raised; /* wire.RETURNED, wire.RAISED */


/* The site at instruction offset ``lasti`` (bytes) of ``code``, from the table or computed
 * once (a new reference, or NULL with an error). */
static PyObject *site_lookup(PyCodeObject *code, int lasti) {
    size_t h = ((uintptr_t)code >> 4) * 0x9E3779B1u + (size_t)lasti * 0x85EBCA77u;
    for (size_t i = h & (SITE_SLOTS - 1);; i = (i + 1) & (SITE_SLOTS - 1)) {
        SiteEntry *e = &site_table[i];
        if (e->code == (PyObject *)code && e->lasti == lasti) return Py_NewRef(e->site);
        if (!e->code) { /* not seen yet: compute and remember it */
            PyObject *result = Py_BuildValue("(OiO)", code->co_filename,
                                             PyCode_Addr2Line(code, lasti), code->co_name);
            if (!result) return NULL;
            if (site_count >= SITE_MAX) {
                site_clear();
                e = &site_table[h & (SITE_SLOTS - 1)];
            }
            e->code = Py_NewRef((PyObject *)code);
            e->lasti = lasti;
            e->site = Py_NewRef(result);
            site_count++;
            return result;
        }
    }
}

/* (file, line, func) or None: the first frame above the running Python frame (a send
 * mirror) whose file is not the dispatcher's; what _dispatch._site_py() returns. Through
 * the public frame API, which creates a frame object for each frame it looks at. */
static PyObject *call_site_api(void) {
    if (!site_table) {
        PyErr_SetString(PyExc_RuntimeError, "configure() was not called");
        return NULL;
    }
    PyFrameObject *mirror = PyEval_GetFrame(); /* borrowed: the send mirror's frame */
    if (!mirror) Py_RETURN_NONE;
    PyFrameObject *frame = PyFrame_GetBack(mirror); /* new reference */
    PyCodeObject *code = NULL;
    PyObject *result = NULL;
    for (;;) {
        if (!frame) Py_RETURN_NONE;
        code = PyFrame_GetCode(frame);
        int skip = PySet_Contains(site_skip_files, code->co_filename);
        if (skip < 0) goto done;
        if (!skip) break;
        Py_DECREF(code);
        code = NULL;
        PyFrameObject *back = PyFrame_GetBack(frame);
        Py_DECREF(frame);
        frame = back;
    }
    result = site_lookup(code, PyFrame_GetLasti(frame));
done:
    Py_XDECREF(code);
    Py_XDECREF(frame);
    return result;
}

#if PY_VERSION_HEX >= 0x030B0000 && PY_VERSION_HEX < 0x030C0000 && !defined(Py_GIL_DISABLED)
/* CPython 3.11's interpreter frames, read directly: the leading fields of
 * _PyInterpreterFrame (Include/internal/pycore_frame.h of 3.11, which Cython reads the
 * same way). The same walk as call_site_api() without creating frame objects (~40 % of
 * a dispatch's call-site cost). configure() checks it against call_site_api() and keeps
 * to the public API if they ever disagree. */
#define FAST_FRAMES 1
typedef struct Frame311 {
    PyObject *f_func, *f_globals, *f_builtins, *f_locals;
    PyCodeObject *f_code;
    PyObject *frame_obj;
    struct Frame311 *previous;
    _Py_CODEUNIT *prev_instr;
    int stacktop;
    char is_entry; /* bool */
    char owner;    /* 1: FRAME_OWNED_BY_GENERATOR */
} Frame311;

static int fast_frames = 0; /* set by configure() once the self-check passed */

/* The frame below ``f`` as PyFrame_GetBack() gives it: frames still starting skipped. */
static Frame311 *frame_back(Frame311 *f) {
    Frame311 *prev = f->previous;
    while (prev && prev->owner != 1
           && prev->prev_instr < _PyCode_CODE(prev->f_code) + prev->f_code->_co_firsttraceable)
        prev = prev->previous;
    return prev;
}

static PyObject *call_site_fast(void) {
    Frame311 *mirror = (Frame311 *)PyThreadState_Get()->cframe->current_frame;
    if (!mirror) Py_RETURN_NONE;
    for (Frame311 *frame = frame_back(mirror); frame; frame = frame_back(frame)) {
        PyCodeObject *code = frame->f_code;
        int skip = PySet_Contains(site_skip_files, code->co_filename);
        if (skip < 0) return NULL;
        if (!skip)
            return site_lookup(code, (int)(frame->prev_instr - _PyCode_CODE(code))
                                         * (int)sizeof(_Py_CODEUNIT));
    }
    Py_RETURN_NONE;
}
#endif

static PyObject *call_site(void) {
#ifdef FAST_FRAMES
    if (fast_frames) return call_site_fast();
#endif
    return call_site_api();
}

/* configure(skip_files, returned, raised): the files of the dispatcher and the hook (not
 * call sites), and the outcome strings the nests' rows carry. */
static PyObject *configure(PyObject *self, PyObject *args) {
    PyObject *skip, *returned, *raised;
    if (!PyArg_ParseTuple(args, "O!UU", &PySet_Type, &skip, &returned, &raised)) return NULL;
    Py_XSETREF(outcome_returned, Py_NewRef(returned));
    Py_XSETREF(outcome_raised, Py_NewRef(raised));
    if (!site_table) {
        site_table = PyMem_Calloc(SITE_SLOTS, sizeof(SiteEntry));
        if (!site_table) return PyErr_NoMemory();
    }
    site_clear(); /* another skip set: other answers */
    Py_INCREF(skip);
    Py_XSETREF(site_skip_files, skip);
#ifdef FAST_FRAMES
    /* The direct walk must see what the public API sees, here: the caller's caller. */
    fast_frames = 0;
    PyObject *api = call_site_api();
    PyObject *fast = api ? call_site_fast() : NULL;
    if (!fast) {
        Py_XDECREF(api);
        return NULL;
    }
    fast_frames = api == fast; /* the same table entry, so the same object */
    Py_DECREF(api);
    Py_DECREF(fast);
#endif
    Py_RETURN_NONE;
}

/* fast_frames() -> True when call sites are found by reading CPython's frames directly. */
static PyObject *fast_frames_py(PyObject *self, PyObject *unused) {
#ifdef FAST_FRAMES
    return PyBool_FromLong(fast_frames);
#else
    Py_RETURN_FALSE;
#endif
}

/* site() -> (file, line, func) or None, for the mirror that calls it. */
static PyObject *site(PyObject *self, PyObject *unused) { return call_site(); }

/* perf_counter_ns(): the clock of time.perf_counter_ns() (CLOCK_MONOTONIC on Linux). */
static inline long long now_ns(void) {
#if defined(__linux__)
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (long long)t.tv_sec * 1000000000LL + t.tv_nsec;
#elif PY_VERSION_HEX >= 0x030D0000
    PyTime_t t;
    (void)PyTime_PerfCounterRaw(&t);
    return (long long)t;
#else
    return (long long)_PyTime_GetPerfCounter();
#endif
}

/* now_ns() as an int (a test compares it with time.perf_counter_ns()). */
static PyObject *clock_py(PyObject *self, PyObject *unused) {
    return PyLong_FromLongLong(now_ns());
}

/* ------------------------------------------------------------------ nesting */

/* capture._Nest in C: a dispatch's id, the running dispatch around it when it started
 * (up), whether it has ended (done, set by finish), its call site, and what its
 * receivers did: ``calls`` of (receiver, ns, outcome, result) in completion order, timed
 * from t0 (when enter() returned) and t_last (the last mark). The mirror marks each
 * receiver with returned()/raised() (one call: the clock read, the duration and the row
 * in C); finish() empties calls, so a nest only refers to an int, a bool, a tuple of
 * strings and older nests once its dispatch has ended. GC-tracked while calls holds
 * what the receivers gave (an exception's traceback leads back to the mirror's frame). */
typedef struct {
    PyObject_HEAD
    PyObject *id;
    PyObject *up;    /* Nest or NULL */
    PyObject *done;  /* Py_False while running */
    PyObject *site;  /* (file, line, func) or None */
    PyObject *calls; /* list */
    long long t0, t_last;
} Nest;

static PyTypeObject NestType;

static int nest_traverse(Nest *n, visitproc visit, void *arg) {
    Py_VISIT(n->up);
    Py_VISIT(n->calls);
    return 0;
}

static int nest_clear(Nest *n) {
    Py_CLEAR(n->calls);
    Py_CLEAR(n->up);
    return 0;
}

static void nest_dealloc(Nest *n) {
    PyObject_GC_UnTrack(n);
    Py_XDECREF(n->id);
    Py_XDECREF(n->done);
    Py_XDECREF(n->site);
    nest_clear(n);
    PyObject_GC_Del(n);
}

/* Append (receiver, ns, outcome, result) to the nest's calls. */
static PyObject *nest_append(Nest *n, PyObject *receiver, long long ns, PyObject *outcome,
                             PyObject *result) {
    if (!n->calls) {
        PyErr_SetString(PyExc_RuntimeError, "the nest has no calls list");
        return NULL;
    }
    PyObject *dur = PyLong_FromLongLong(ns);
    if (!dur) return NULL;
    PyObject *row = PyTuple_New(4);
    if (!row) { Py_DECREF(dur); return NULL; }
    PyTuple_SET_ITEM(row, 0, Py_NewRef(receiver));
    PyTuple_SET_ITEM(row, 1, dur);
    PyTuple_SET_ITEM(row, 2, Py_NewRef(outcome));
    PyTuple_SET_ITEM(row, 3, Py_NewRef(result));
    int rc = PyList_Append(n->calls, row);
    Py_DECREF(row);
    if (rc < 0) return NULL;
    Py_RETURN_NONE;
}

/* The receiver ended now: timed from the last mark, which it becomes. */
static PyObject *nest_mark(Nest *n, PyObject *const *args, Py_ssize_t nargs,
                           PyObject *outcome) {
    if (!outcome) {
        PyErr_SetString(PyExc_RuntimeError, "configure() was not called");
        return NULL;
    }
    if (nargs != 2) {
        PyErr_SetString(PyExc_TypeError, "expected (receiver, result)");
        return NULL;
    }
    long long end = now_ns(), start = n->t_last;
    n->t_last = end;
    return nest_append(n, args[0], end - start, outcome, args[1]);
}

static PyObject *nest_returned(Nest *n, PyObject *const *args, Py_ssize_t nargs) {
    return nest_mark(n, args, nargs, outcome_returned);
}

static PyObject *nest_raised(Nest *n, PyObject *const *args, Py_ssize_t nargs) {
    return nest_mark(n, args, nargs, outcome_raised);
}

static PyObject *nest_record(Nest *n, PyObject *const *args, Py_ssize_t nargs) {
    if (nargs != 4 || !PyLong_Check(args[1])) {
        PyErr_SetString(PyExc_TypeError, "record(receiver, ns: int, outcome, result)");
        return NULL;
    }
    if (n->done != Py_False) Py_RETURN_NONE; /* too late: the dispatch was recorded */
    long long ns = PyLong_AsLongLong(args[1]);
    if (ns == -1 && PyErr_Occurred()) return NULL;
    return nest_append(n, args[0], ns, args[2], args[3]);
}

static PyObject *nest_resume(Nest *n, PyObject *unused) {
    n->t_last = now_ns();
    Py_RETURN_NONE;
}

static PyMethodDef nest_methods[] = {
    {"returned", (PyCFunction)(void (*)(void))nest_returned, METH_FASTCALL,
     "returned(receiver, response): the receiver returned now (timed from the last mark)."},
    {"raised", (PyCFunction)(void (*)(void))nest_raised, METH_FASTCALL,
     "raised(receiver, exc): the receiver raised now (timed from the last mark)."},
    {"record", (PyCFunction)(void (*)(void))nest_record, METH_FASTCALL,
     "record(receiver, ns, outcome, result): a call timed by the caller (async); "
     "ignored once the dispatch has ended (a sync receiver of a cancelled asend())."},
    {"resume", (PyCFunction)nest_resume, METH_NOARGS,
     "resume(): the next mark is timed from now (after work that is no receiver's)."},
    {NULL, NULL, 0, NULL},
};

static PyMemberDef nest_members[] = {
    {"id", T_OBJECT_EX, offsetof(Nest, id), READONLY, "the dispatch's id"},
    {"up", T_OBJECT, offsetof(Nest, up), READONLY,
     "the nest of the dispatch running around this one when it started, or None"},
    /* T_OBJECT_EX: a plain slot, so ``nest.done = True`` is specialised */
    {"done", T_OBJECT_EX, offsetof(Nest, done), 0, "True once the dispatch has ended"},
    {"site", T_OBJECT, offsetof(Nest, site), READONLY, "the call site of send(), or None"},
    {"calls", T_OBJECT, offsetof(Nest, calls), READONLY,
     "(receiver, ns, outcome, result) of each receiver that ended, until finish()"},
    {"t0", T_LONGLONG, offsetof(Nest, t0), READONLY,
     "perf_counter_ns() when the receivers started"},
    {"t_last", T_LONGLONG, offsetof(Nest, t_last), READONLY,
     "perf_counter_ns() of the last mark (the end of the last receiver)"},
    {NULL, 0, 0, 0, NULL},
};

static PyTypeObject NestType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "django_probe._accel.Nest",
    .tp_basicsize = sizeof(Nest),
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC,
    .tp_doc = "capture._Nest in C (see Enter).",
    .tp_members = nest_members,
    .tp_methods = nest_methods,
    .tp_traverse = (traverseproc)nest_traverse,
    .tp_clear = (inquiry)nest_clear,
    .tp_dealloc = (destructor)nest_dealloc,
};

/* End the nest's dispatch: done, and forget what its receivers gave. The list keeps its
 * storage for the next dispatch of a re-armed nest; it is emptied before the rows are
 * released (releasing one may run a __del__, which then sees an empty list). */
static int nest_end(Nest *n) {
    Py_SETREF(n->done, Py_NewRef(Py_True));
    Py_ssize_t size = n->calls ? PyList_GET_SIZE(n->calls) : 0;
    if (size) {
        PyObject *exc_type, *exc_value, *exc_tb;
        PyErr_Fetch(&exc_type, &exc_value, &exc_tb);
        PyObject *stack[8], **rows = stack;
        if (size > 8 && !(rows = PyMem_Malloc((size_t)size * sizeof(PyObject *)))) {
            if (PyList_SetSlice(n->calls, 0, size, NULL) < 0) PyErr_Clear();
        } else {
            memcpy(rows, ((PyListObject *)n->calls)->ob_item, (size_t)size * sizeof(PyObject *));
            Py_SET_SIZE(n->calls, 0);
            for (Py_ssize_t i = 0; i < size; i++) Py_DECREF(rows[i]);
            if (rows != stack) PyMem_Free(rows);
        }
        PyErr_Restore(exc_type, exc_value, exc_tb);
    }
    return 0;
}


/* capture._ThreadState in C: the same three slots, read by the finisher without an
 * attribute lookup. ThreadState(thread_name, ident); busy starts False. */
typedef struct {
    PyObject_HEAD
    PyObject *busy, *thread, *ident;
    PyObject *pair; /* (thread, ident): packed once, from the memo (pack_items) */
} ThreadState;

static void thread_state_dealloc(ThreadState *t) {
    Py_XDECREF(t->busy);
    Py_XDECREF(t->thread);
    Py_XDECREF(t->ident);
    Py_XDECREF(t->pair);
    PyObject_Free(t);
}

static PyObject *thread_state_new(PyTypeObject *type, PyObject *args, PyObject *kwds) {
    PyObject *thread, *ident;
    if (!PyArg_ParseTuple(args, "UO!", &thread, &PyLong_Type, &ident)) return NULL;
    ThreadState *t = PyObject_New(ThreadState, type);
    if (!t) return NULL;
    t->busy = Py_NewRef(Py_False);
    t->thread = Py_NewRef(thread);
    t->ident = Py_NewRef(ident);
    t->pair = PyTuple_Pack(2, thread, ident);
    if (!t->pair) { Py_DECREF(t); return NULL; }
    return (PyObject *)t;
}

/* Not GC-tracked: it holds a bool, a str and an int (thread and ident are read-only;
 * busy is only ever set to a bool by the probe). */
static PyMemberDef thread_state_members[] = {
    {"busy", T_OBJECT_EX, offsetof(ThreadState, busy), 0, "the re-entrancy guard"},
    {"thread", T_OBJECT_EX, offsetof(ThreadState, thread), READONLY, "the thread's name"},
    {"ident", T_OBJECT_EX, offsetof(ThreadState, ident), READONLY, "threading.get_ident()"},
    {NULL, 0, 0, 0, NULL},
};

static PyTypeObject ThreadStateType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "django_probe._accel.ThreadState",
    .tp_basicsize = sizeof(ThreadState),
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "capture._ThreadState in C.",
    .tp_new = thread_state_new,
    .tp_members = thread_state_members,
    .tp_dealloc = (destructor)thread_state_dealloc,
};

/* Recorder.enter in C: Enter(current_dispatch)() starts a dispatch's nest, as
 * Recorder._enter_py does; next_id() draws from the same counter. */
typedef struct {
    PyObject_HEAD
    vectorcallfunc vectorcall;
    PyObject *var; /* capture.current_dispatch */
    long long last_id;
} Enter;

/* The layout of CPython's context object (Include/internal/pycore_context.h; checked in
 * the 3.11 headers and in CPython's main branch), read only to see whether its variables
 * are shared with a copy. Versions past the gate below use the plain update. */
typedef struct {
    PyObject_HEAD
    PyObject *ctx_prev;
    PyObject *ctx_vars; /* the HAMT of variable -> value */
    PyObject *ctx_weakreflist;
    int ctx_entered;
} ContextLayout;

#if !defined(Py_GIL_DISABLED) && PY_VERSION_HEX < 0x030F0000
#define CAN_REARM 1
#endif

/* The innermost nest still running from ``nest`` on (a new reference, or NULL: none, or
 * a value that is not a Nest, taken as unset). Steals the reference to ``nest``. */
static PyObject *running_nest(PyObject *nest) {
    while (nest && Py_TYPE(nest) == &NestType && ((Nest *)nest)->done != Py_False) {
        PyObject *up = Py_XNewRef(((Nest *)nest)->up);
        Py_DECREF(nest);
        nest = up;
    }
    if (nest && Py_TYPE(nest) != &NestType) Py_CLEAR(nest);
    return nest;
}

/* (Re)start nest n for a dispatch: its call site, an empty calls list, the clock. */
static int nest_start(Nest *n, PyObject *site) {
    Py_XSETREF(n->site, site);
    if (!n->calls || PyList_GET_SIZE(n->calls)) { /* (a finish that never came: a new one) */
        PyObject *calls = PyList_New(0);
        if (!calls) return -1;
        Py_XSETREF(n->calls, calls);
    }
    n->t0 = n->t_last = now_ns();
    return 0;
}

static PyObject *enter_call(PyObject *self_, PyObject *const *args, size_t nargsf,
                            PyObject *kwnames) {
    Enter *e = (Enter *)self_;
    if (PyVectorcall_NARGS(nargsf) || kwnames) {
        PyErr_SetString(PyExc_TypeError, "enter() takes no arguments");
        return NULL;
    }
    PyObject *site = call_site(); /* of the mirror that calls us */
    if (!site) return NULL;
    PyObject *up;
    if (PyContextVar_Get(e->var, NULL, &up) < 0) { Py_DECREF(site); return NULL; }
#ifdef CAN_REARM
    /* The nest of an ended dispatch that nothing else can see any more (referenced only
     * by this context's variables, which no copy shares: their refcounts say so) is
     * re-armed for this dispatch instead of setting a new one: setting a context variable
     * costs ~1,100 instructions, and it is the same as if we had. */
    PyObject *ctx = PyThreadState_Get()->context;
    if (up && Py_TYPE(up) == &NestType && ((Nest *)up)->done != Py_False
            && Py_REFCNT(up) == 2 /* the context's variables and ours */
            && ctx && Py_TYPE(ctx) == &PyContext_Type
            && Py_REFCNT(((ContextLayout *)ctx)->ctx_vars) == 1) {
        Nest *n = (Nest *)up;
        PyObject *outer = running_nest(Py_XNewRef(n->up));
        PyObject *id = PyLong_FromLongLong(++e->last_id);
        if (!id) { Py_XDECREF(outer); Py_DECREF(up); Py_DECREF(site); return NULL; }
        Py_SETREF(n->id, id);
        Py_XSETREF(n->up, outer);
        Py_SETREF(n->done, Py_NewRef(Py_False));
        if (nest_start(n, site) < 0) { Py_DECREF(up); return NULL; }
        return up; /* our reference */
    }
#endif
    up = running_nest(up);
    Nest *n = PyObject_GC_New(Nest, &NestType);
    if (!n) { Py_XDECREF(up); Py_DECREF(site); return NULL; }
    n->up = up;
    n->done = Py_NewRef(Py_False);
    n->site = NULL;
    n->calls = NULL;
    n->id = PyLong_FromLongLong(++e->last_id);
    PyObject_GC_Track(n);
    if (!n->id) { Py_DECREF(site); Py_DECREF(n); return NULL; }
    if (nest_start(n, site) < 0) { Py_DECREF(n); return NULL; }
    PyObject *token = PyContextVar_Set(e->var, (PyObject *)n);
    if (!token) { Py_DECREF(n); return NULL; }
    Py_DECREF(token);
    return (PyObject *)n;
}

static PyObject *enter_next_id(Enter *e, PyObject *unused) {
    return PyLong_FromLongLong(++e->last_id);
}

static int enter_traverse(Enter *e, visitproc visit, void *arg) {
    Py_VISIT(e->var);
    return 0;
}

static int enter_clear(Enter *e) {
    Py_CLEAR(e->var);
    return 0;
}

static void enter_dealloc(Enter *e) {
    PyObject_GC_UnTrack(e);
    enter_clear(e);
    Py_TYPE(e)->tp_free((PyObject *)e);
}

static PyObject *enter_new(PyTypeObject *type, PyObject *args, PyObject *kwds) {
    PyObject *var;
    if (!PyArg_ParseTuple(args, "O!", &PyContextVar_Type, &var)) return NULL;
    Enter *e = (Enter *)type->tp_alloc(type, 0);
    if (!e) return NULL;
    e->vectorcall = enter_call;
    e->var = Py_NewRef(var);
    e->last_id = 0;
    return (PyObject *)e;
}

static PyMethodDef enter_methods[] = {
    {"next_id", (PyCFunction)enter_next_id, METH_NOARGS,
     "The next dispatch id (the counter enter() uses)."},
    {NULL, NULL, 0, NULL},
};

static PyTypeObject EnterType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "django_probe._accel.Enter",
    .tp_basicsize = sizeof(Enter),
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC | Py_TPFLAGS_HAVE_VECTORCALL,
    .tp_doc = "Recorder.enter in C: Enter(current_dispatch)() -> Nest.",
    .tp_new = enter_new,
    .tp_methods = enter_methods,
    .tp_traverse = (traverseproc)enter_traverse,
    .tp_clear = (inquiry)enter_clear,
    .tp_dealloc = (destructor)enter_dealloc,
    .tp_call = PyVectorcall_Call,
    .tp_vectorcall_offset = offsetof(Enter, vectorcall),
};

/* ------------------------------------------------------------------ no-receiver counts */

/* Recorder.empty_counts for send() in C: (signal, sender) -> [name, label, count], keyed
 * by the two objects' addresses, as the dict is keyed by their id()s (no reference to
 * either: nothing is kept alive). counter(signal, sender) counts a known pair and
 * returns True, or returns False: then Recorder.empty() describes the pair and add()s
 * it. drain() takes every count. A call does no allocation and runs no Python code, so
 * under the GIL it is atomic. An open-addressing table, emptied only all at once. */
typedef struct {
    void *signal, *sender; /* signal NULL: an empty slot */
    PyObject *name, *label;
    Py_ssize_t count;
} CountSlot;

typedef struct {
    PyObject_HEAD
    vectorcallfunc vectorcall;
    CountSlot *slots;
    size_t mask, used;
} Counter;

#define COUNTER_MIN_SLOTS 256
#define COUNTER_MAX_USED (1 << 16) /* then add() refuses: the dict takes the rest */

static inline size_t counter_hash(void *signal, void *sender) {
    uint64_t h = ((uint64_t)(uintptr_t)signal >> 4) * 0x9E3779B97F4A7C15ull
                 ^ ((uint64_t)(uintptr_t)sender >> 4) * 0xC2B2AE3D27D4EB4Full;
    return (size_t)(h ^ (h >> 29));
}

/* The slot of (signal, sender), or the empty slot where it would go. */
static inline CountSlot *counter_slot(CountSlot *slots, size_t mask, void *signal,
                                      void *sender) {
    for (size_t i = counter_hash(signal, sender) & mask;; i = (i + 1) & mask) {
        CountSlot *s = &slots[i];
        if (!s->signal || (s->signal == signal && s->sender == sender)) return s;
    }
}

static PyObject *counter_call(PyObject *self_, PyObject *const *args, size_t nargsf,
                              PyObject *kwnames) {
    Counter *c = (Counter *)self_;
    if (PyVectorcall_NARGS(nargsf) != 2 || kwnames) {
        PyErr_SetString(PyExc_TypeError, "counter(signal, sender)");
        return NULL;
    }
    CountSlot *s = counter_slot(c->slots, c->mask, args[0], args[1]);
    if (!s->signal) Py_RETURN_FALSE;
    s->count++;
    Py_RETURN_TRUE;
}

static int counter_grow(Counter *c) {
    size_t size = (c->mask + 1) * 2;
    CountSlot *slots = PyMem_Calloc(size, sizeof(CountSlot));
    if (!slots) return -1;
    for (size_t i = 0; i <= c->mask; i++) {
        CountSlot *old = &c->slots[i];
        if (old->signal) *counter_slot(slots, size - 1, old->signal, old->sender) = *old;
    }
    PyMem_Free(c->slots);
    c->slots = slots;
    c->mask = size - 1;
    return 0;
}

/* add(signal, sender, name, label) -> True (counted once more), or False: full. */
static PyObject *counter_add(Counter *c, PyObject *const *args, Py_ssize_t n) {
    if (n != 4 || !PyUnicode_Check(args[2]) || !PyUnicode_Check(args[3])) {
        PyErr_SetString(PyExc_TypeError, "add(signal, sender, name: str, label: str)");
        return NULL;
    }
    CountSlot *s = counter_slot(c->slots, c->mask, args[0], args[1]);
    if (s->signal) { /* another thread added it meanwhile */
        s->count++;
        Py_RETURN_TRUE;
    }
    if (c->used >= COUNTER_MAX_USED) Py_RETURN_FALSE;
    if ((c->used + 1) * 2 > c->mask + 1) {
        if (counter_grow(c) < 0) return PyErr_NoMemory();
        s = counter_slot(c->slots, c->mask, args[0], args[1]);
    }
    s->signal = args[0];
    s->sender = args[1];
    s->name = Py_NewRef(args[2]);
    s->label = Py_NewRef(args[3]);
    s->count = 1;
    c->used++;
    Py_RETURN_TRUE;
}

static void counter_reset(Counter *c) {
    for (size_t i = 0; i <= c->mask; i++) {
        CountSlot *s = &c->slots[i];
        if (s->signal) {
            Py_CLEAR(s->name);
            Py_CLEAR(s->label);
            s->signal = s->sender = NULL;
        }
    }
    c->used = 0;
}

/* drain() -> [(name, label, count), ...] since the last drain, and forget them all. */
static PyObject *counter_drain(Counter *c, PyObject *unused) {
    PyObject *out = PyList_New((Py_ssize_t)c->used);
    if (!out) return NULL;
    Py_ssize_t k = 0;
    for (size_t i = 0; i <= c->mask; i++) {
        CountSlot *s = &c->slots[i];
        if (!s->signal) continue;
        PyObject *row = Py_BuildValue("(OOn)", s->name, s->label, s->count);
        if (!row) { Py_DECREF(out); return NULL; }
        PyList_SET_ITEM(out, k++, row);
    }
    counter_reset(c); /* (nothing above ran Python code: no count was lost meanwhile) */
    return out;
}

static Py_ssize_t counter_len(Counter *c) { return (Py_ssize_t)c->used; }

static void counter_dealloc(Counter *c) {
    if (c->slots) {
        counter_reset(c);
        PyMem_Free(c->slots);
    }
    PyObject_Free(c);
}

static PyObject *counter_new(PyTypeObject *type, PyObject *args, PyObject *kwds) {
    if (!PyArg_ParseTuple(args, ":Counter")) return NULL;
    Counter *c = PyObject_New(Counter, type);
    if (!c) return NULL;
    c->vectorcall = counter_call;
    c->mask = COUNTER_MIN_SLOTS - 1;
    c->used = 0;
    c->slots = PyMem_Calloc(COUNTER_MIN_SLOTS, sizeof(CountSlot));
    if (!c->slots) { PyObject_Free(c); return PyErr_NoMemory(); }
    return (PyObject *)c;
}

static PyMethodDef counter_methods[] = {
    {"add", (PyCFunction)(void (*)(void))counter_add, METH_FASTCALL,
     "add(signal, sender, name, label) -> True, or False when full (count it elsewhere)."},
    {"drain", (PyCFunction)counter_drain, METH_NOARGS,
     "drain() -> [(name, label, count)] since the last drain; the table is emptied."},
    {NULL, NULL, 0, NULL},
};

static PySequenceMethods counter_as_sequence = {.sq_length = (lenfunc)counter_len};

/* Not GC-tracked: it holds only str objects. */
static PyTypeObject CounterType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "django_probe._accel.Counter",
    .tp_basicsize = sizeof(Counter),
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_VECTORCALL,
    .tp_doc = "Counter()(signal, sender) -> bool: send()'s no-receiver counts in C.",
    .tp_new = counter_new,
    .tp_methods = counter_methods,
    .tp_as_sequence = &counter_as_sequence,
    .tp_dealloc = (destructor)counter_dealloc,
    .tp_call = PyVectorcall_Call,
    .tp_vectorcall_offset = offsetof(Counter, vectorcall),
};

/* ------------------------------------------------------------------ msgpack
 *
 * The events' own packer: exact None, bool, int (64-bit), str, tuple, list and dict,
 * written as msgspec writes them (the smallest msgpack form of each; a test compares
 * the bytes). Anything else returns "unsupported" and the caller uses msgspec, which
 * also knows subclasses and refuses what is not plain data. About a third of msgspec's
 * instructions for an event: no type dispatch, no output-buffer resizing. */

typedef struct {
    char *data;
    size_t len, cap;
    char stack[1024];
} Buf;

enum { PACK_OK = 0, PACK_UNSUPPORTED = 1, PACK_ERROR = -1 };

static int buf_grow(Buf *b, size_t more) {
    size_t cap = b->cap * 2;
    while (cap < b->len + more) cap *= 2;
    if (cap > (size_t)64 << 20) return -1; /* far beyond any frame: msgspec decides */
    char *data = b->data == b->stack ? PyMem_Malloc(cap) : PyMem_Realloc(b->data, cap);
    if (!data) return -1;
    if (b->data == b->stack) memcpy(data, b->stack, b->len);
    b->data = data;
    b->cap = cap;
    return 0;
}

#define RESERVE(b, more) \
    do { if ((b)->len + (more) > (b)->cap && buf_grow((b), (more)) < 0) return PACK_ERROR; } \
    while (0)

/* A type byte and a big-endian length/value of 0, 1, 2, 4 or 8 bytes (room reserved). */
static inline __attribute__((always_inline)) void put_head(Buf *b, unsigned char type,
                                                           uint64_t v, int bytes) {
    char *p = b->data + b->len;
    *p++ = (char)type;
    for (int i = bytes - 1; i >= 0; i--) *p++ = (char)(v >> (8 * i));
    b->len += 1 + (size_t)bytes;
}

static inline __attribute__((always_inline)) void put_container(Buf *b, size_t n,
                                                                unsigned char fix,
                                                                unsigned char w16) {
    if (n <= 15) put_head(b, (unsigned char)(fix | n), 0, 0);
    else if (n <= 0xffff) put_head(b, w16, n, 2);
    else put_head(b, (unsigned char)(w16 + 1), n, 4);
}

static int pack_str(Buf *b, PyObject *o) {
    Py_ssize_t n;
    const char *utf8;
    if (PyUnicode_IS_COMPACT_ASCII(o)) { /* the usual case: its bytes are its UTF-8 */
        n = PyUnicode_GET_LENGTH(o);
        utf8 = (const char *)PyUnicode_DATA(o);
    } else {
        utf8 = PyUnicode_AsUTF8AndSize(o, &n);
        if (!utf8) {
            PyErr_Clear(); /* lone surrogates: msgspec's verdict */
            return PACK_UNSUPPORTED;
        }
    }
    size_t len = (size_t)n;
    RESERVE(b, len + 5);
    if (len <= 31) put_head(b, (unsigned char)(0xa0 | len), 0, 0);
    else if (len <= 0xff) put_head(b, 0xd9, len, 1);
    else if (len <= 0xffff) put_head(b, 0xda, len, 2);
    else put_head(b, 0xdb, len, 4);
    memcpy(b->data + b->len, utf8, len);
    b->len += len;
    return PACK_OK;
}

/* A 64-bit int in its smallest msgpack form, as msgspec writes it (9 bytes reserved). */
static inline __attribute__((always_inline)) void put_int(Buf *b, long long v) {
    if (v >= 0) {
        if (v < 128) put_head(b, (unsigned char)v, 0, 0);
        else if (v <= 0xff) put_head(b, 0xcc, (uint64_t)v, 1);
        else if (v <= 0xffff) put_head(b, 0xcd, (uint64_t)v, 2);
        else if (v <= 0xffffffffLL) put_head(b, 0xce, (uint64_t)v, 4);
        else put_head(b, 0xcf, (uint64_t)v, 8);
    } else if (v >= -32) put_head(b, (unsigned char)(int8_t)v, 0, 0);
    else if (v >= -128) put_head(b, 0xd0, (uint64_t)v, 1);
    else if (v >= -32768) put_head(b, 0xd1, (uint64_t)v, 2);
    else if (v >= -2147483648LL) put_head(b, 0xd2, (uint64_t)v, 4);
    else put_head(b, 0xd3, (uint64_t)v, 8);
}

static int pack_obj(Buf *b, PyObject *o, int depth) {
    PyTypeObject *t = Py_TYPE(o);
    if (t == &PyUnicode_Type) return pack_str(b, o);
    RESERVE(b, 9);
    if (t == &PyLong_Type) {
        int overflow;
        long long v = PyLong_AsLongLongAndOverflow(o, &overflow);
        if (overflow) return PACK_UNSUPPORTED; /* uint64 above 2**63 and bigger: msgspec */
        if (v == -1 && PyErr_Occurred()) return PACK_ERROR;
        put_int(b, v);
        return PACK_OK;
    }
    if (o == Py_None) { put_head(b, 0xc0, 0, 0); return PACK_OK; }
    if (o == Py_False) { put_head(b, 0xc2, 0, 0); return PACK_OK; }
    if (o == Py_True) { put_head(b, 0xc3, 0, 0); return PACK_OK; }
    if (depth > 32) return PACK_UNSUPPORTED;
    if (t == &PyTuple_Type || t == &PyList_Type) {
        Py_ssize_t n = PySequence_Fast_GET_SIZE(o);
        put_container(b, (size_t)n, 0x90, 0xdc);
        PyObject **items = PySequence_Fast_ITEMS(o);
        for (Py_ssize_t i = 0; i < n; i++) {
            /* (nothing here runs Python code, so a list cannot change meanwhile) */
            int rc = pack_obj(b, items[i], depth + 1);
            if (rc != PACK_OK) return rc;
        }
        return PACK_OK;
    }
    if (t == &PyDict_Type) {
        put_container(b, (size_t)PyDict_GET_SIZE(o), 0x80, 0xde);
        Py_ssize_t pos = 0;
        PyObject *k, *v;
        while (PyDict_Next(o, &pos, &k, &v)) {
            if (!PyUnicode_CheckExact(k)) return PACK_UNSUPPORTED;
            int rc = pack_str(b, k);
            if (rc == PACK_OK) rc = pack_obj(b, v, depth + 1);
            if (rc != PACK_OK) return rc;
        }
        return PACK_OK;
    }
    return PACK_UNSUPPORTED;
}

/* bytes, or NULL: with an error set, or without one when msgspec must decide. */
static PyObject *pack_plain(PyObject *o) {
    Buf b;
    b.data = b.stack;
    b.len = 0;
    b.cap = sizeof b.stack;
    int rc = pack_obj(&b, o, 0);
    PyObject *out = NULL;
    /* (a buffer that could not grow leaves no error: msgspec then decides) */
    if (rc == PACK_OK) out = PyBytes_FromStringAndSize(b.data, (Py_ssize_t)b.len);
    if (b.data != b.stack) PyMem_Free(b.data);
    return out;
}

static PyObject *pack_plain_py(PyObject *self, PyObject *o) {
    PyObject *out = pack_plain(o);
    if (!out && !PyErr_Occurred()) Py_RETURN_NONE;
    return out;
}

/* The items of a flat tuple, packed one after another (no array header): a receiver's
 * description and a call site repeat in every event of theirs. Kept per tuple address in
 * a direct-mapped memo that holds the tuple (so the address is not reused) and its
 * bytes; only exact tuples of exact str, int, None and bool are memoised (such a tuple
 * never changes). Anything else is packed item by item. */
typedef struct {
    PyObject *tuple, *packed; /* NULL: an empty slot */
} PackMemo;

#define PACK_MEMO_SLOTS 256 /* a power of two */
static PackMemo pack_memo[PACK_MEMO_SLOTS];

static int memoisable(PyObject *o) {
    PyTypeObject *t = Py_TYPE(o);
    return t == &PyUnicode_Type || t == &PyLong_Type || o == Py_None || t == &PyBool_Type;
}

static int pack_items(Buf *b, PyObject *tuple) {
    if (!PyTuple_CheckExact(tuple)) return PACK_UNSUPPORTED;
    PackMemo *m = &pack_memo[((uintptr_t)tuple >> 4) & (PACK_MEMO_SLOTS - 1)];
    if (m->tuple != tuple) {
        Py_ssize_t n = PyTuple_GET_SIZE(tuple);
        Buf own;
        own.data = own.stack;
        own.len = 0;
        own.cap = sizeof own.stack;
        int rc = PACK_OK, flat = 1;
        for (Py_ssize_t i = 0; i < n && rc == PACK_OK; i++) {
            PyObject *item = PyTuple_GET_ITEM(tuple, i);
            flat &= memoisable(item);
            rc = pack_obj(&own, item, 3);
        }
        if (rc == PACK_OK && flat) {
            PyObject *packed = PyBytes_FromStringAndSize(own.data, (Py_ssize_t)own.len);
            if (!packed) rc = PACK_ERROR;
            else {
                Py_XSETREF(m->packed, packed);
                Py_XSETREF(m->tuple, Py_NewRef(tuple));
            }
        }
        if (rc == PACK_OK && !flat) { /* not memoised: copied once */
            if (b->len + own.len > b->cap && buf_grow(b, own.len) < 0) rc = PACK_ERROR;
            else {
                memcpy(b->data + b->len, own.data, own.len);
                b->len += own.len;
            }
        }
        if (own.data != own.stack) PyMem_Free(own.data);
        if (rc != PACK_OK || !flat) return rc;
    }
    size_t len = (size_t)PyBytes_GET_SIZE(m->packed);
    RESERVE(b, len);
    memcpy(b->data + b->len, PyBytes_AS_STRING(m->packed), len);
    b->len += len;
    return PACK_OK;
}

/* An object's entry in one of the finisher's caches, remembered by the object's address
 * in a direct-mapped memo: a hit costs no int object and no dict lookup. An entry is
 * only trusted while its weak reference (the entry's first item) still points to the
 * object, so a dead object's address, reused, never matches. */
typedef struct {
    PyObject *obj;   /* the address only: no reference */
    PyObject *entry; /* a tuple whose item 0 is a weak reference to obj */
} EntryMemo;

#define ENTRY_MEMO_SLOTS 64 /* a power of two */

static inline EntryMemo *entry_memo_slot(EntryMemo *memo, PyObject *obj) {
    uintptr_t a = (uintptr_t)obj;
    return &memo[((a >> 4) ^ (a >> 10)) & (ENTRY_MEMO_SLOTS - 1)];
}

static inline PyObject *entry_memo_get(EntryMemo *memo, PyObject *obj) {
    EntryMemo *m = entry_memo_slot(memo, obj);
    if (m->obj == obj && m->entry
            && PyWeakref_GET_OBJECT(PyTuple_GET_ITEM(m->entry, 0)) == obj)
        return m->entry; /* borrowed */
    return NULL;
}

static inline void entry_memo_put(EntryMemo *memo, PyObject *obj, PyObject *entry) {
    EntryMemo *m = entry_memo_slot(memo, obj);
    m->obj = obj;
    Py_XSETREF(m->entry, Py_NewRef(entry));
}

static void entry_memo_clear(EntryMemo *memo) {
    for (int i = 0; i < ENTRY_MEMO_SLOTS; i++) {
        memo[i].obj = NULL;
        Py_CLEAR(memo[i].entry);
    }
}

static int entry_memo_traverse(EntryMemo *memo, visitproc visit, void *arg) {
    for (int i = 0; i < ENTRY_MEMO_SLOTS; i++) Py_VISIT(memo[i].entry);
    return 0;
}

/* ------------------------------------------------------------------ Finisher */

typedef struct {
    PyObject_HEAD
    vectorcallfunc vectorcall;
    PyObject *recorder;       /* the Recorder: .on_failure, ._finish_py */
    PyObject *names;          /* dict id(signal) -> name (registry.names) */
    PyObject *tls;            /* capture._tls: .state is the _ThreadState */
    PyObject *functions;      /* describer._functions: id(f) -> (weakref(f), desc) */
    PyObject *type_labels;    /* describer._type_labels: id(cls) -> (weakref(cls), label) */
    PyObject *describe_receiver, *describe_value, *describe_sender, *describe_kwargs;
    PyObject *current_request; /* ContextVar */
    PyObject *request_finished;
    PyObject *returned, *kind, *none_label;
    PyObject *submit_func;    /* Publisher.submit (the function) */
    PyObject *pack_event;     /* wire.pack_event (msgspec's encoder) */
    PyObject *time_ns, *perf_counter_ns;
    PyObject *ignore;         /* recorder.ignore (a frozenset, kept in step like sink) */
    PyObject *sink;           /* recorder.sink (kept in step by the recorder's property) */
    PyObject *publisher, *publisher_dict; /* the last publisher served, and its __dict__ */
    /* Describer.kwargs for the common values (see describe_kwargs_c) */
    PyObject *sensitive_names; /* describer._sensitive_names: key -> verdict */
    PyObject *kinds;           /* describer._kinds: id(cls) -> (weakref(cls), kind, model) */
    PyObject *redacted, *request_kind, *ellipsis, *request_started, *empty_str;
    Py_ssize_t max_len, max_items;
    long long wall_offset, offset_at, offset_ttl; /* as Recorder._wall */
    PyObject *queue, *queue_append; /* the publisher's last queue, and its bound append */
    Py_ssize_t queue_max, wake_at;  /* and its _queue_max, _wake_at, _running */
    int running;
    uint64_t publisher_version;     /* of its __dict__ when they were read (0: never) */
    /* Memos of the caches above: functions, type_labels, and names (its entries are
     * (weakref(signal), name) tuples of the finisher's own). */
    EntryMemo functions_memo[ENTRY_MEMO_SLOTS], labels_memo[ENTRY_MEMO_SLOTS],
        kinds_memo[ENTRY_MEMO_SLOTS], names_memo[ENTRY_MEMO_SLOTS];
} Finisher;

static PyObject *s_state_key; /* key of the _ThreadState in PyThreadState_GetDict() */
static PyObject *s_wake_at, *s_wake_up, *s_idle;
static PyObject *s_state, *s_on_failure,
    *s_finish_py, *s_queue, *s_queue_max, *s_dropped_queue, *s_running, *s_start,
    *s_count_lost, *s_append;

/* Call the Python Recorder.finish with the same arguments. */
static PyObject *fallback(Finisher *f, PyObject *const *args, size_t nargsf) {
    PyObject *meth = PyObject_GetAttr(f->recorder, s_finish_py);
    if (!meth) return NULL;
    PyObject *r = PyObject_Vectorcall(meth, args, PyVectorcall_NARGS(nargsf), NULL);
    Py_DECREF(meth);
    return r;
}

/* Record a failure like the Python version's ``except Exception: self.on_failure()``. */
static int count_failure(Finisher *f) {
    if (!PyErr_ExceptionMatches(PyExc_Exception)) return -1; /* propagate BaseException */
    PyErr_Clear();
    PyObject *r = PyObject_CallMethodNoArgs(f->recorder, s_on_failure);
    if (!r) {
        if (!PyErr_ExceptionMatches(PyExc_Exception)) return -1;
        PyErr_Clear();
    }
    Py_XDECREF(r);
    return 0;
}

/* A weakref-checked cache: cache[id(obj)] is a tuple of ``size`` items whose first is a
 * weak reference to obj. The entry (borrowed), or NULL for a miss (no error set). */
static PyObject *cached_entry(PyObject *cache, EntryMemo *memo, PyObject *obj,
                              Py_ssize_t size) {
    PyObject *hit = entry_memo_get(memo, obj);
    if (hit && PyTuple_GET_SIZE(hit) == size) return hit;
    PyObject *key = PyLong_FromVoidPtr(obj);
    if (!key) { PyErr_Clear(); return NULL; }
    hit = PyDict_GetItemWithError(cache, key);
    Py_DECREF(key);
    if (!hit) { PyErr_Clear(); return NULL; }
    if (!PyTuple_CheckExact(hit) || PyTuple_GET_SIZE(hit) != size) return NULL;
    PyObject *ref = PyTuple_GET_ITEM(hit, 0);
    if (!PyWeakref_CheckRef(ref) || PyWeakref_GET_OBJECT(ref) != obj) return NULL;
    entry_memo_put(memo, obj, hit);
    return hit; /* borrowed */
}

/* cache[id(obj)] == (ref, value) with ref() is obj -> value (borrowed), else NULL. */
static PyObject *cached(PyObject *cache, EntryMemo *memo, PyObject *obj) {
    PyObject *hit = cached_entry(cache, memo, obj, 2);
    return hit ? PyTuple_GET_ITEM(hit, 1) : NULL; /* borrowed */
}

/* The signal's name (borrowed) from names[id(signal)], or NULL (no error set). A name
 * is given once per live signal (registry._remember), so it is remembered with a weak
 * reference to its signal; a signal that cannot be weakly referenced is looked up. */
static PyObject *signal_name(Finisher *f, PyObject *signal) {
    PyObject *hit = entry_memo_get(f->names_memo, signal);
    if (hit) return PyTuple_GET_ITEM(hit, 1);
    PyObject *key = PyLong_FromVoidPtr(signal);
    PyObject *name = key ? PyDict_GetItemWithError(f->names, key) : NULL; /* borrowed */
    Py_XDECREF(key);
    if (!name) { PyErr_Clear(); return NULL; }
    if (PyType_SUPPORTS_WEAKREFS(Py_TYPE(signal))) {
        PyObject *ref = PyWeakref_NewRef(signal, NULL);
        PyObject *entry = ref ? PyTuple_Pack(2, ref, name) : NULL;
        Py_XDECREF(ref);
        if (entry) entry_memo_put(f->names_memo, signal, entry);
        else PyErr_Clear();
        Py_XDECREF(entry);
    }
    return name;
}

/* publisher.<name> read from its instance dict (new reference), as the attribute is:
 * Publisher has no class attribute or descriptor of these names. */
static PyObject *pub_attr(PyObject *dict, PyObject *name) {
    PyObject *v = PyDict_GetItemWithError(dict, name);
    if (!v && !PyErr_Occurred()) PyErr_SetObject(PyExc_AttributeError, name);
    return Py_XNewRef(v);
}

/* An event's parts for packing without building its tuples: the 15 fields in wire
 * order, with the kwargs (NULL: none) and the receiver rows given apart. */
typedef struct {
    PyObject **items;           /* 15; items[1], items[12] and items[13] unused */
    long long ts;               /* items[1] */
    PyObject *thread_pair;      /* (items[8], items[9]) */
    PyObject *kwargs;           /* dict or NULL (an empty map) */
    PyObject *calls;            /* the mirror's list of (receiver, ns, outcome, result) */
    PyObject **descs, **values; /* per call: the receiver's 4-tuple and its value */
    PyObject *returned;
} Parts;

/* What pack_plain() would write for the event tuple built from ``p``; NULL without an
 * error when some part is not ours to pack (then the tuple goes to msgspec). */
static PyObject *pack_parts(Parts *p) {
    Buf b;
    b.data = b.stack;
    b.len = 0;
    b.cap = sizeof b.stack;
    Py_ssize_t n = PyList_GET_SIZE(p->calls);
    int rc = PACK_OK;
    b.data[b.len++] = (char)0x9f; /* fixarray of 15 */
    for (int k = 0; k < 15 && rc == PACK_OK; k++) {
        if (k == 1) {
            if (b.len + 9 > b.cap && buf_grow(&b, 9) < 0) { rc = PACK_ERROR; break; }
            put_int(&b, p->ts);
        } else if (k == 8) { /* the thread's name and id */
            rc = pack_items(&b, p->thread_pair);
            k = 9;
        } else if (k == 10 && PyTuple_CheckExact(p->items[k])) { /* the call site */
            if (b.len + 5 > b.cap && buf_grow(&b, 5) < 0) { rc = PACK_ERROR; break; }
            put_container(&b, (size_t)PyTuple_GET_SIZE(p->items[k]), 0x90, 0xdc);
            rc = pack_items(&b, p->items[k]);
        } else if (k == 12) {
            if (p->kwargs) rc = pack_obj(&b, p->kwargs, 1);
            else b.data[b.len++] = (char)0x80; /* {} */
        } else if (k == 13) {
            if (b.len + 5 > b.cap && buf_grow(&b, 5) < 0) { rc = PACK_ERROR; break; }
            put_container(&b, (size_t)n, 0x90, 0xdc);
            for (Py_ssize_t i = 0; i < n && rc == PACK_OK; i++) {
                PyObject *call = PyList_GET_ITEM(p->calls, i), *desc = p->descs[i];
                if (b.len + 1 > b.cap && buf_grow(&b, 1) < 0) { rc = PACK_ERROR; break; }
                b.data[b.len++] = (char)0x9a; /* fixarray of 10 */
                rc = pack_items(&b, desc);
                if (rc == PACK_OK) rc = pack_obj(&b, Py_False, 3);
                if (rc == PACK_OK) rc = pack_obj(&b, PyTuple_GET_ITEM(call, 1), 3);
                if (rc == PACK_OK) rc = pack_obj(&b, p->returned, 3);
                if (rc == PACK_OK) rc = pack_obj(&b, p->values[i], 3);
                if (rc == PACK_OK) rc = pack_obj(&b, Py_None, 3);
                if (rc == PACK_OK) rc = pack_obj(&b, Py_None, 3);
            }
        } else {
            rc = pack_obj(&b, p->items[k], 1);
        }
    }
    PyObject *out = rc == PACK_OK ? PyBytes_FromStringAndSize(b.data, (Py_ssize_t)b.len) : NULL;
    if (b.data != b.stack) PyMem_Free(b.data);
    return out;
}

enum { SUBMITTED = 0, SUBMIT_AS_TUPLE = 2 };

/* Publisher.submit(event), in C: same checks, same counters, same queue. The event is
 * ``event``, or when that is NULL the tuple ``parts`` describes (packed without building
 * it; SUBMIT_AS_TUPLE, before any effect, when msgspec must pack it instead). */
/* The publisher's attributes submit() reads, as of ``version`` of its __dict__. */
#if PY_VERSION_HEX < 0x030C0000 /* ma_version_tag: deprecated in 3.12, gone later */
#define DICT_VERSION(d) (((PyDictObject *)(d))->ma_version_tag)
#endif

static int read_publisher(Finisher *f) {
    PyObject *dict = f->publisher_dict;
    PyObject *queue = pub_attr(dict, s_queue);
    PyObject *qmax = queue ? pub_attr(dict, s_queue_max) : NULL;
    PyObject *wake_at = qmax ? pub_attr(dict, s_wake_at) : NULL;
    PyObject *running = wake_at ? pub_attr(dict, s_running) : NULL;
    int rc = -1;
    if (running) {
        f->queue_max = PyLong_AsSsize_t(qmax);
        f->wake_at = PyLong_AsSsize_t(wake_at);
        f->running = PyObject_IsTrue(running);
        if (!PyErr_Occurred() && f->running >= 0) {
            if (queue != f->queue) { /* its bound append(), looked up once per queue */
                PyObject *append = PyObject_GetAttr(queue, s_append);
                if (append) {
                    Py_XSETREF(f->queue_append, append);
                    Py_XSETREF(f->queue, Py_NewRef(queue));
                }
            }
            if (f->queue == queue) rc = 0;
        }
    }
#ifdef DICT_VERSION
    f->publisher_version = rc == 0 ? DICT_VERSION(dict) : 0;
#endif
    Py_XDECREF(queue);
    Py_XDECREF(qmax);
    Py_XDECREF(wake_at);
    Py_XDECREF(running);
    return rc;
}

/* Publisher.submit(event), in C: same checks, same counters, same queue. The event is
 * ``event``, or when that is NULL the tuple ``parts`` describes (packed without building
 * it; SUBMIT_AS_TUPLE, before any effect, when msgspec must pack it instead). The
 * publisher's attributes are read again whenever its __dict__ changed since the last
 * read (its version tag says so; on Python 3.12+, every time). */
static int submit(Finisher *f, PyObject *publisher, PyObject *event, Parts *parts) {
    if (publisher != f->publisher) { /* remember its __dict__ */
        PyObject *dict = PyObject_GenericGetDict(publisher, NULL);
        if (!dict) return -1;
        Py_XSETREF(f->publisher_dict, dict);
        Py_XSETREF(f->publisher, Py_NewRef(publisher));
        f->publisher_version = 0;
    }
#ifdef DICT_VERSION
    if (!f->publisher_version || f->publisher_version != DICT_VERSION(f->publisher_dict))
#endif
    {
        if (read_publisher(f) < 0) return -1;
    }
    PyObject *queue = f->queue;
    Py_ssize_t depth = PyObject_Length(queue);
    if (depth < 0) return -1;
    if (depth >= f->queue_max) {
        PyObject *counter = PyObject_GetAttr(publisher, s_dropped_queue);
        PyObject *r = counter ? PyIter_Next(counter) : NULL;
        Py_XDECREF(counter);
        if (!r) return -1;
        Py_DECREF(r);
        return 0;
    }
    PyObject *packed = event ? pack_plain(event) : pack_parts(parts);
    if (!packed && !PyErr_Occurred()) { /* not ours to pack: msgspec (wire.pack_event) */
        if (!event) return SUBMIT_AS_TUPLE;
        packed = PyObject_CallOneArg(f->pack_event, event);
    }
    if (!packed) {
        /* Not plain data (a bug upstream): counted, as submit() does. */
        if (!PyErr_ExceptionMatches(PyExc_Exception)) return -1;
        PyErr_Clear();
        PyObject *r = PyObject_CallMethodNoArgs(publisher, s_count_lost);
        if (!r) return -1;
        Py_DECREF(r);
        return 0;
    }
    PyObject *r = PyObject_CallOneArg(f->queue_append, packed);
    Py_DECREF(packed);
    if (!r) return -1;
    Py_DECREF(r);
    Py_ssize_t at = f->wake_at;
    int wake_up = at > 0 && (depth + 1) % at == 0; /* a full batch, as in submit() */
    if (!wake_up && depth == 0) { /* the first event after idling, as in submit() */
        PyObject *idle = pub_attr(f->publisher_dict, s_idle);
        if (!idle) return -1;
        wake_up = idle == Py_True;
        Py_DECREF(idle);
    }
    if (wake_up) { /* Publisher._wake_up(): also where a fork without hooks is noticed */
        r = PyObject_CallMethodNoArgs(publisher, s_wake_up);
        if (!r) return -1;
        Py_DECREF(r);
    }
    if (!f->running) {
        r = PyObject_CallMethodNoArgs(publisher, s_start);
        if (!r) return -1;
        Py_DECREF(r);
        f->publisher_version = 0; /* read again: _start() set _running */
    }
    return 0;
}

/* ------------------------------------------------------------------ kwargs
 *
 * Describer.kwargs()/value() for the values most dispatches carry: str, int, float, bool,
 * None, a WSGI environ, a model instance, a request. Anything else, any doubt and any
 * error go to the Python describer (per value, or for the whole dict), which stays the
 * definition; a differential test compares both over many kinds of values. */

static PyObject *s_dunder_dict, *s_state_attr, *s_method, *s_path, *s_request_method,
    *s_path_info, *s_environ, *s_x_request_id, *s_request_prefix, *s_request_counter,
    *s_begin_request_py, *s_space, *s_space_paren, *s_environ_open, *s_keys_close, *s_unsaved, *s_pk_is;

/* The concatenation of n str objects (borrowed), or NULL with an error. The labels below
 * are built with it, not PyUnicode_FromFormat: one allocation and n copies, where the
 * format parser costs ~2,000 instructions a call (callgrind, scenario (d)). */
static PyObject *join_str(PyObject *const *parts, Py_ssize_t n) {
    Py_ssize_t length = 0;
    Py_UCS4 maxchar = 127;
    for (Py_ssize_t i = 0; i < n; i++) {
        length += PyUnicode_GET_LENGTH(parts[i]);
        Py_UCS4 m = PyUnicode_MAX_CHAR_VALUE(parts[i]);
        if (m > maxchar) maxchar = m;
    }
    PyObject *out = PyUnicode_New(length, maxchar);
    if (!out) return NULL;
    Py_ssize_t at = 0;
    for (Py_ssize_t i = 0; i < n; i++) {
        Py_ssize_t k = PyUnicode_GET_LENGTH(parts[i]);
        if (k && PyUnicode_CopyCharacters(out, at, parts[i], 0, k) < 0) {
            Py_DECREF(out);
            return NULL;
        }
        at += k;
    }
    return out;
}

/* k in base 10 or 16 as a new str (what %zd / %llx print). */
static PyObject *digits_str(unsigned long long k, unsigned base) {
    char buf[24], *end = buf + sizeof buf, *at = end;
    do {
        *--at = "0123456789abcdef"[k % base];
        k /= base;
    } while (k);
    return PyUnicode_FromStringAndSize(at, end - at);
}

/* Describer.value()'s final bound: text[:max_len - 1] + "…" when longer (steals text). */
static PyObject *bounded(Finisher *f, PyObject *text) {
    if (!text || PyUnicode_GET_LENGTH(text) <= f->max_len) return text;
    PyObject *head = PyUnicode_Substring(text, 0, f->max_len - 1);
    Py_DECREF(text);
    if (!head) return NULL;
    PyObject *out = PyUnicode_Concat(head, f->ellipsis);
    Py_DECREF(head);
    return out;
}

/* str(x) for an exact str or None (what an f-string shows), else NULL without error. */
static PyObject *plain_text(PyObject *x) {
    if (PyUnicode_CheckExact(x)) return Py_NewRef(x);
    if (x == Py_None) return PyUnicode_FromString("None");
    return NULL;
}

/* Describer.value(value), or NULL without an error: not handled here. */
static PyObject *value_c(Finisher *f, PyObject *value) {
    PyTypeObject *cls = Py_TYPE(value);
    if (cls == &PyUnicode_Type) {
        PyObject *head = PyUnicode_Substring(value, 0, f->max_len);
        PyObject *r = head ? PyObject_Repr(head) : NULL;
        Py_XDECREF(head);
        return bounded(f, r);
    }
    if (cls == &PyLong_Type || cls == &PyBool_Type || cls == &PyFloat_Type || value == Py_None)
        return bounded(f, PyObject_Repr(value));
    if (cls == &PyDict_Type) { /* Describer._mapping: a WSGI environ by its request line */
        PyObject *method = PyDict_GetItemWithError(value, s_request_method);
        PyObject *path = method ? PyDict_GetItemWithError(value, s_path_info) : NULL;
        if (!path || !PyUnicode_CheckExact(method) || !PyUnicode_CheckExact(path)) return NULL;
        PyObject *m = PyUnicode_Substring(method, 0, 16);
        PyObject *p = m ? PyUnicode_Substring(path, 0, f->max_len) : NULL;
        PyObject *count = p ? digits_str((unsigned long long)PyDict_GET_SIZE(value), 10) : NULL;
        /* "<WSGI environ %U %U (%zd keys)>" */
        PyObject *parts[] = {s_environ_open, m, s_space, p, s_space_paren, count, s_keys_close};
        PyObject *r = count ? join_str(parts, 7) : NULL;
        Py_XDECREF(m);
        Py_XDECREF(p);
        Py_XDECREF(count);
        return bounded(f, r);
    }
    PyObject *hit = cached_entry(f->kinds, f->kinds_memo, (PyObject *)cls, 3); /* (ref, kind, model) */
    if (!hit) return NULL;
    PyObject *kind = PyTuple_GET_ITEM(hit, 1), *model = PyTuple_GET_ITEM(hit, 2);
    int is_model = model != Py_None;
    if (!is_model && kind != f->request_kind) return NULL;
    PyObject *dict = PyObject_GetAttr(value, s_dunder_dict); /* value.__dict__, as Python */
    if (!dict) return NULL;
    PyObject *r = NULL;
    if (!PyDict_Check(dict)) goto done;
    if (is_model) {
        int has_state = PyDict_Contains(dict, s_state_attr);
        if (has_state < 0) goto done;
        if (has_state) { /* describe._model_instance */
            if (!PyTuple_CheckExact(model) || PyTuple_GET_SIZE(model) != 2) goto done;
            PyObject *attname = PyTuple_GET_ITEM(model, 0), *label = PyTuple_GET_ITEM(model, 1);
            if (!PyUnicode_CheckExact(label)) goto done;
            PyObject *pk = Py_None;
            if (PyUnicode_Check(attname) && PyUnicode_GET_LENGTH(attname)) {
                pk = PyDict_GetItemWithError(dict, attname);
                if (!pk) {
                    if (PyErr_Occurred()) goto done;
                    pk = Py_None;
                }
            } else if (attname != Py_None) {
                goto done;
            }
            if (pk == Py_None) {
                PyObject *parts[] = {label, s_unsaved}; /* "%U (unsaved)" */
                r = join_str(parts, 2);
            } else if (PyLong_CheckExact(pk) || PyUnicode_CheckExact(pk)) {
                PyObject *text = PyObject_Str(pk); /* "%U pk=%S" */
                PyObject *parts[] = {label, s_pk_is, text};
                r = text ? join_str(parts, 3) : NULL;
                Py_XDECREF(text);
            }
            goto done; /* other keys (a UUID...): Python's repr rule */
        }
    }
    if (kind == f->request_kind) { /* "WSGIRequest GET /path": plain attributes only */
        PyObject *method = PyDict_GetItemWithError(dict, s_method);
        PyObject *path = PyErr_Occurred() ? NULL : PyDict_GetItemWithError(dict, s_path);
        if (PyErr_Occurred()) goto done;
        PyObject *m = plain_text(method ? method : Py_None);
        PyObject *p = plain_text(path ? path : Py_None);
        PyObject *name = (m && p) ? PyType_GetName(cls) : NULL;
        PyObject *parts[] = {name, s_space, m, s_space, p}; /* "%U %U %U" */
        if (name) r = join_str(parts, 5);
        Py_XDECREF(m);
        Py_XDECREF(p);
        Py_XDECREF(name);
    }
done:
    Py_DECREF(dict);
    return bounded(f, r);
}

/* Describer.kwargs(named): new dict, or NULL with an error. */
static PyObject *describe_kwargs_c(Finisher *f, PyObject *named) {
    if (PyDict_GET_SIZE(named) > f->max_items) /* the "…: N more" entry: Python's */
        return PyObject_CallOneArg(f->describe_kwargs, named);
    PyObject *out = PyDict_New();
    if (!out) return NULL;
    Py_ssize_t pos = 0;
    PyObject *key, *value;
    while (PyDict_Next(named, &pos, &key, &value)) {
        PyObject *verdict = PyDict_GetItemWithError(f->sensitive_names, key);
        if (!verdict) { /* a name not seen yet: Python decides it (and remembers) */
            Py_DECREF(out);
            if (PyErr_Occurred()) return NULL;
            return PyObject_CallOneArg(f->describe_kwargs, named);
        }
        PyObject *text;
        if (verdict == Py_True) {
            text = Py_NewRef(f->redacted);
        } else if (verdict != Py_False) {
            Py_DECREF(out);
            return PyObject_CallOneArg(f->describe_kwargs, named);
        } else {
            text = value_c(f, value);
            if (!text) {
                if (PyErr_Occurred()) {
                    if (!PyErr_ExceptionMatches(PyExc_Exception)) { Py_DECREF(out); return NULL; }
                    PyErr_Clear(); /* e.g. a huge int's repr: Python has the rule for it */
                }
                text = PyObject_CallOneArg(f->describe_value, value);
            }
        }
        if (!text || PyDict_SetItem(out, key, text) < 0) {
            Py_XDECREF(text);
            Py_DECREF(out);
            return NULL;
        }
        Py_DECREF(text);
    }
    return out;
}

/* Recorder.begin_request(signal, named) for a WSGI environ of plain strings (the
 * request line and X-Request-ID); anything else is Recorder._begin_request_py's. */
static PyObject *finisher_begin_request(Finisher *f, PyObject *const *args, Py_ssize_t n) {
    if (n != 2 || !PyDict_CheckExact(args[1])) goto python;
    if (args[0] != f->request_started) Py_RETURN_NONE;
    PyObject *environ = PyDict_GetItemWithError(args[1], s_environ);
    if (!environ || !PyDict_CheckExact(environ)) goto python;
    PyObject *rid = PyDict_GetItemWithError(environ, s_x_request_id);
    PyObject *method = PyErr_Occurred() ? NULL
                                        : PyDict_GetItemWithError(environ, s_request_method);
    PyObject *path = PyErr_Occurred() ? NULL : PyDict_GetItemWithError(environ, s_path_info);
    if (PyErr_Occurred()) return NULL;
    if ((rid && rid != Py_None && !PyUnicode_CheckExact(rid))
            || (method && !PyUnicode_CheckExact(method)) || (path && !PyUnicode_CheckExact(path)))
        goto python;
    PyObject *request_id;
    if (rid && rid != Py_None && PyUnicode_GET_LENGTH(rid)) {
        request_id = PyUnicode_Substring(rid, 0, 64);
    } else { /* Recorder._new_request_id(): the per-probe prefix and a counter */
        PyObject *prefix = PyObject_GetAttr(f->recorder, s_request_prefix);
        PyObject *counter = prefix ? PyObject_GetAttr(f->recorder, s_request_counter) : NULL;
        PyObject *next = counter ? PyIter_Next(counter) : NULL;
        unsigned long long k = next ? PyLong_AsUnsignedLongLong(next) : 0;
        PyObject *hex = (next && !PyErr_Occurred()) ? digits_str(k, 16) : NULL;
        PyObject *parts[] = {prefix, hex}; /* f"{prefix}{k:x}" */
        request_id = (hex && PyUnicode_CheckExact(prefix)) ? join_str(parts, 2) : NULL;
        Py_XDECREF(hex);
        if (!request_id && !PyErr_Occurred())
            PyErr_SetString(PyExc_TypeError, "bad request id state");
        Py_XDECREF(prefix);
        Py_XDECREF(counter);
        Py_XDECREF(next);
    }
    PyObject *p = path ? PyUnicode_Substring(path, 0, 512) : PyUnicode_New(0, 0);
    PyObject *info = (request_id && p)
        ? PyTuple_Pack(3, request_id, method ? method : f->empty_str, p) : NULL;
    Py_XDECREF(request_id);
    Py_XDECREF(p);
    if (!info) return NULL;
    PyObject *token = PyContextVar_Set(f->current_request, info);
    Py_DECREF(info);
    if (!token) return NULL;
    Py_DECREF(token);
    Py_RETURN_NONE;
python:
    if (PyErr_Occurred()) return NULL;
    PyObject *meth = PyObject_GetAttr(f->recorder, s_begin_request_py);
    if (!meth) return NULL;
    PyObject *r = PyObject_Vectorcall(meth, args, n, NULL);
    Py_DECREF(meth);
    return r;
}

static PyObject *finisher_describe_kwargs(Finisher *f, PyObject *named) {
    if (!PyDict_CheckExact(named)) {
        PyErr_SetString(PyExc_TypeError, "describe_kwargs() takes a dict");
        return NULL;
    }
    return describe_kwargs_c(f, named);
}

/* Recorder.finish(signal, sender, method, named, nest, receivers, async_receivers,
 * raised): the call site, the receivers' calls and the times are the nest's. */
enum { A_SIGNAL, A_SENDER, A_METHOD, A_NAMED, A_NEST, A_RECEIVERS, A_ASYNC, A_RAISED, NARGS };

/* Recorder._wall: time.time_ns() at perf_counter_ns() == t0. */
static int wall_of(Finisher *f, long long t0, long long *wall_ns) {
    if (t0 - f->offset_at > f->offset_ttl) {
        PyObject *now = PyObject_CallNoArgs(f->perf_counter_ns);
        PyObject *wall = now ? PyObject_CallNoArgs(f->time_ns) : NULL;
        long long n = now ? PyLong_AsLongLong(now) : -1, w = wall ? PyLong_AsLongLong(wall) : -1;
        Py_XDECREF(now);
        Py_XDECREF(wall);
        if (PyErr_Occurred()) return -1;
        f->offset_at = n;
        f->wall_offset = w - n;
    }
    *wall_ns = t0 + f->wall_offset;
    return 0;
}

static PyObject *finish_c(Finisher *f, PyObject *const *args, size_t nargsf, Nest *nest) {
    PyObject *signal = args[A_SIGNAL], *sender = args[A_SENDER], *named = args[A_NAMED];
    PyObject *calls = nest->calls, *receivers = args[A_RECEIVERS];
    /* The common case only; anything else is the Python version's. */
    if (!calls || !PyList_CheckExact(receivers) || PyObject_IsTrue(args[A_ASYNC]) != 0
            || PyList_GET_SIZE(calls) != PyList_GET_SIZE(receivers)
            || !PyDict_CheckExact(named)) {
        PyErr_Clear();
        return fallback(f, args, nargsf);
    }
    Py_ssize_t ncalls = PyList_GET_SIZE(calls);
    for (Py_ssize_t i = 0; i < ncalls; i++) {
        PyObject *call = PyList_GET_ITEM(calls, i);
        if (!PyTuple_CheckExact(call) || PyTuple_GET_SIZE(call) != 4
                || PyTuple_GET_ITEM(call, 2) != f->returned)
            return fallback(f, args, nargsf);
    }
    /* The thread's capture._ThreadState: the same object as capture._tls.state, found
     * through the thread state's own dict (a threading.local attribute costs ~1,400
     * instructions; this ~100). It dies with the thread, like the thread-local. */
    PyObject *tsd = PyThreadState_GetDict(); /* borrowed */
    PyObject *state = tsd ? PyDict_GetItemWithError(tsd, s_state_key) : NULL;
    if (state) {
        Py_INCREF(state);
    } else {
        if (PyErr_Occurred()) PyErr_Clear();
        state = PyObject_GetAttr(f->tls, s_state);
        if (!state) { PyErr_Clear(); return fallback(f, args, nargsf); } /* a new thread */
        if (tsd && PyDict_SetItem(tsd, s_state_key, state) < 0) PyErr_Clear();
    }
    PyObject *name = signal_name(f, signal); /* borrowed */
    int ignored = !name || !f->ignore || !PyAnySet_Check(f->ignore) ? -1
                  : PySet_GET_SIZE(f->ignore) ? PySet_Contains(f->ignore, name) : 0;
    if (ignored != 0 || Py_TYPE(state) != &ThreadStateType || !PyUnicode_Check(name)
            || !PyUnicode_GET_LENGTH(name)) {
        /* an unnamed or ignored signal, or a lookup failed: the Python version decides */
        Py_DECREF(state);
        PyErr_Clear();
        return fallback(f, args, nargsf);
    }
    ThreadState *ts_ = (ThreadState *)state;
    if (ts_->busy != Py_False) { /* caused by the probe's own work: never record or recurse */
        Py_DECREF(state);
        Py_RETURN_NONE;
    }
    Py_INCREF(name);
    Py_SETREF(ts_->busy, Py_NewRef(Py_True));
    PyObject *rows = NULL, *label = NULL, *kwargs = NULL, *request = NULL, *thread = NULL;
    PyObject *ident = NULL, *event = NULL, *sink = NULL, *ts = NULL, *duration = NULL;
    int failed = 1;
    /* Each receiver's description and value (new references), in call order. */
    PyObject *stack_parts[16], **descs = stack_parts, **values;
    Py_ssize_t described = 0;
    if (ncalls > 8) {
        descs = PyMem_Calloc((size_t)ncalls * 2, sizeof(PyObject *));
        if (!descs) { PyErr_NoMemory(); goto end; }
    }
    values = descs + ncalls;
    for (Py_ssize_t i = 0; i < ncalls; i++) {
        PyObject *call = PyList_GET_ITEM(calls, i);
        PyObject *receiver = PyTuple_GET_ITEM(call, 0), *result = PyTuple_GET_ITEM(call, 3);
        PyObject *desc = cached(f->functions, f->functions_memo, receiver);
        if (desc) Py_INCREF(desc);
        else desc = PyObject_CallOneArg(f->describe_receiver, receiver);
        if (!desc) goto end;
        if (!PyTuple_CheckExact(desc) || PyTuple_GET_SIZE(desc) != 4) {
            Py_DECREF(desc);
            PyErr_SetString(PyExc_TypeError, "receiver description is not a 4-tuple");
            goto end;
        }
        PyObject *value = result == Py_None ? Py_NewRef(Py_None)
                                            : PyObject_CallOneArg(f->describe_value, result);
        if (!value) { Py_DECREF(desc); goto end; }
        descs[i] = desc;
        values[i] = value;
        described = i + 1;
    }
    if (sender == Py_None) {
        label = Py_NewRef(f->none_label);
    } else {
        PyObject *hit = PyType_Check(sender) ? cached(f->type_labels, f->labels_memo, sender) : NULL;
        label = hit ? Py_NewRef(hit) : PyObject_CallOneArg(f->describe_sender, sender);
        if (!label) goto end;
    }
    if (PyDict_GET_SIZE(named)) {
        kwargs = describe_kwargs_c(f, named);
        if (!kwargs) goto end;
    }
    if (PyContextVar_Get(f->current_request, NULL, &request) < 0) goto end;
    if (!request) request = Py_NewRef(Py_None);
    thread = Py_NewRef(ts_->thread);
    ident = Py_NewRef(ts_->ident);
    long long wall_ns;
    if (wall_of(f, nest->t0, &wall_ns) < 0) goto end;
    /* The last receiver's end is the dispatch's end, unless it was cut short. */
    int raised = PyObject_IsTrue(args[A_RAISED]);
    if (raised < 0) goto end;
    duration = PyLong_FromLongLong((raised ? now_ns() : nest->t_last) - nest->t0);
    if (!duration) goto end;
    PyObject *parent = nest->up ? ((Nest *)nest->up)->id : Py_None;
    PyObject *items[15] = {f->kind, NULL, nest->id, parent, name, label,
                           args[A_METHOD], duration, thread, ident,
                           nest->site ? nest->site : Py_None, request, NULL, NULL,
                           args[A_RAISED]};
    sink = Py_XNewRef(f->sink);
    if (!sink) {
        PyErr_SetString(PyExc_AttributeError, "no sink");
        goto end;
    }
    int to_publisher = f->submit_func && f->submit_func != Py_None && PyMethod_Check(sink)
                       && PyMethod_GET_FUNCTION(sink) == f->submit_func;
    if (to_publisher) { /* packed from the parts: no event tuple to build and free */
        Parts parts = {items, wall_ns, ts_->pair, kwargs, calls, descs, values, f->returned};
        int rc = submit(f, PyMethod_GET_SELF(sink), NULL, &parts);
        if (rc < 0) goto end;
        if (rc == SUBMITTED) goto submitted;
    }
    /* The event as the tuple Recorder._finish_py hands to the sink. */
    rows = PyTuple_New(ncalls);
    if (!rows) goto end;
    for (Py_ssize_t i = 0; i < ncalls; i++) {
        PyObject *row = PyTuple_New(10);
        if (!row) goto end;
        for (int k = 0; k < 4; k++)
            PyTuple_SET_ITEM(row, k, Py_NewRef(PyTuple_GET_ITEM(descs[i], k)));
        PyTuple_SET_ITEM(row, 4, Py_NewRef(Py_False));
        PyTuple_SET_ITEM(row, 5, Py_NewRef(PyTuple_GET_ITEM(PyList_GET_ITEM(calls, i), 1)));
        PyTuple_SET_ITEM(row, 6, Py_NewRef(f->returned));
        PyTuple_SET_ITEM(row, 7, Py_NewRef(values[i]));
        PyTuple_SET_ITEM(row, 8, Py_NewRef(Py_None));
        PyTuple_SET_ITEM(row, 9, Py_NewRef(Py_None));
        PyTuple_SET_ITEM(rows, i, row);
    }
    if (!kwargs) {
        kwargs = PyDict_New();
        if (!kwargs) goto end;
    }
    ts = PyLong_FromLongLong(wall_ns);
    if (!ts) goto end;
    items[1] = ts;
    items[12] = kwargs;
    items[13] = rows;
    event = PyTuple_New(15);
    if (!event) goto end;
    for (int k = 0; k < 15; k++) PyTuple_SET_ITEM(event, k, Py_NewRef(items[k]));
    if (to_publisher) {
        if (submit(f, PyMethod_GET_SELF(sink), event, NULL) < 0) goto end;
    } else {
        PyObject *r = PyObject_CallOneArg(sink, event);
        if (!r) goto end;
        Py_DECREF(r);
    }
submitted:
    if (signal == f->request_finished) {
        PyObject *token = PyContextVar_Set(f->current_request, Py_None);
        if (!token) goto end;
        Py_DECREF(token);
    }
    failed = 0;
end:
    if (failed && count_failure(f) < 0) failed = 2; /* a BaseException: propagate it */
    for (Py_ssize_t i = 0; i < described; i++) {
        Py_DECREF(descs[i]);
        Py_DECREF(values[i]);
    }
    if (descs != stack_parts) PyMem_Free(descs);
    Py_XDECREF(rows);
    Py_XDECREF(label);
    Py_XDECREF(kwargs);
    Py_XDECREF(request);
    Py_XDECREF(thread);
    Py_XDECREF(ident);
    Py_XDECREF(event);
    Py_XDECREF(sink);
    Py_XDECREF(ts);
    Py_XDECREF(duration);
    Py_DECREF(name);
    Py_SETREF(ts_->busy, Py_NewRef(Py_False)); /* finally: state.busy = False */
    Py_DECREF(state);
    if (failed == 2) return NULL;
    Py_RETURN_NONE;
}

static PyObject *finisher_call(PyObject *self_, PyObject *const *args, size_t nargsf,
                               PyObject *kwnames) {
    Finisher *f = (Finisher *)self_;
    if (PyVectorcall_NARGS(nargsf) != NARGS || kwnames || Py_TYPE(args[A_NEST]) != &NestType)
        return fallback(f, args, nargsf);
    Nest *nest = (Nest *)args[A_NEST];
    Py_SETREF(nest->done, Py_NewRef(Py_True)); /* ended: nothing started now nests in it */
    PyObject *r = finish_c(f, args, nargsf, nest);
    nest_end(nest); /* (also after the Python version, which ends it too) */
    return r;
}

static int finisher_traverse(Finisher *f, visitproc visit, void *arg) {
    Py_VISIT(f->recorder);
    Py_VISIT(f->names);
    Py_VISIT(f->tls);
    Py_VISIT(f->functions);
    Py_VISIT(f->type_labels);
    Py_VISIT(f->describe_receiver);
    Py_VISIT(f->describe_value);
    Py_VISIT(f->describe_sender);
    Py_VISIT(f->describe_kwargs);
    Py_VISIT(f->current_request);
    Py_VISIT(f->request_finished);
    Py_VISIT(f->returned);
    Py_VISIT(f->kind);
    Py_VISIT(f->none_label);
    Py_VISIT(f->submit_func);
    Py_VISIT(f->pack_event);
    Py_VISIT(f->time_ns);
    Py_VISIT(f->perf_counter_ns);
    Py_VISIT(f->ignore);
    Py_VISIT(f->sink);
    Py_VISIT(f->publisher);
    Py_VISIT(f->publisher_dict);
    Py_VISIT(f->sensitive_names);
    Py_VISIT(f->kinds);
    Py_VISIT(f->redacted);
    Py_VISIT(f->request_kind);
    Py_VISIT(f->ellipsis);
    Py_VISIT(f->request_started);
    Py_VISIT(f->empty_str);
    Py_VISIT(f->queue);
    Py_VISIT(f->queue_append);
    if (entry_memo_traverse(f->functions_memo, visit, arg)
            || entry_memo_traverse(f->labels_memo, visit, arg)
            || entry_memo_traverse(f->kinds_memo, visit, arg)
            || entry_memo_traverse(f->names_memo, visit, arg))
        return -1;
    return 0;
}

static int finisher_clear(Finisher *f) {
    Py_CLEAR(f->recorder);
    Py_CLEAR(f->names);
    Py_CLEAR(f->tls);
    Py_CLEAR(f->functions);
    Py_CLEAR(f->type_labels);
    Py_CLEAR(f->describe_receiver);
    Py_CLEAR(f->describe_value);
    Py_CLEAR(f->describe_sender);
    Py_CLEAR(f->describe_kwargs);
    Py_CLEAR(f->current_request);
    Py_CLEAR(f->request_finished);
    Py_CLEAR(f->returned);
    Py_CLEAR(f->kind);
    Py_CLEAR(f->none_label);
    Py_CLEAR(f->submit_func);
    Py_CLEAR(f->pack_event);
    Py_CLEAR(f->time_ns);
    Py_CLEAR(f->perf_counter_ns);
    Py_CLEAR(f->ignore);
    Py_CLEAR(f->sink);
    Py_CLEAR(f->publisher);
    Py_CLEAR(f->publisher_dict);
    Py_CLEAR(f->sensitive_names);
    Py_CLEAR(f->kinds);
    Py_CLEAR(f->redacted);
    Py_CLEAR(f->request_kind);
    Py_CLEAR(f->ellipsis);
    Py_CLEAR(f->request_started);
    Py_CLEAR(f->empty_str);
    Py_CLEAR(f->queue);
    Py_CLEAR(f->queue_append);
    entry_memo_clear(f->functions_memo);
    entry_memo_clear(f->labels_memo);
    entry_memo_clear(f->kinds_memo);
    entry_memo_clear(f->names_memo);
    return 0;
}

static void finisher_dealloc(Finisher *f) {
    PyObject_GC_UnTrack(f);
    finisher_clear(f);
    Py_TYPE(f)->tp_free((PyObject *)f);
}

static PyObject *finisher_new(PyTypeObject *type, PyObject *args, PyObject *kwds) {
    static char *kw[] = {"recorder", "names", "tls", "functions", "type_labels",
                         "describe_receiver", "describe_value", "describe_sender",
                         "describe_kwargs", "current_request", "request_finished",
                         "returned", "kind", "submit", "pack_event", "time_ns",
                         "perf_counter_ns", "offset_ttl_ns", "ignore", "sink", "describer",
                         "redacted", "request_kind", "request_started", NULL};
    PyObject *o[19], *describer, *redacted, *request_kind, *request_started;
    long long ttl;
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "OO!OO!O!OOOOO!OUUOOOOLO!OOO!O!O", kw, &o[0],
                                     &PyDict_Type, &o[1], &o[2], &PyDict_Type, &o[3],
                                     &PyDict_Type, &o[4], &o[5], &o[6], &o[7], &o[8],
                                     &PyContextVar_Type, &o[9], &o[10], &o[11], &o[12],
                                     &o[13], &o[14], &o[15], &o[16], &ttl,
                                     &PyFrozenSet_Type, &o[17], &o[18], &describer,
                                     &PyUnicode_Type, &redacted, &PyUnicode_Type,
                                     &request_kind, &request_started))
        return NULL;
    Finisher *f = (Finisher *)type->tp_alloc(type, 0);
    if (!f) return NULL;
    f->vectorcall = finisher_call;
    PyObject **slots[19] = {&f->recorder, &f->names, &f->tls, &f->functions, &f->type_labels,
                            &f->describe_receiver, &f->describe_value, &f->describe_sender,
                            &f->describe_kwargs, &f->current_request, &f->request_finished,
                            &f->returned, &f->kind, &f->submit_func, &f->pack_event,
                            &f->time_ns, &f->perf_counter_ns, &f->ignore, &f->sink};
    for (int i = 0; i < 19; i++) *slots[i] = Py_NewRef(o[i]);
    f->offset_ttl = ttl;
    f->redacted = Py_NewRef(redacted);
    f->request_kind = Py_NewRef(request_kind);
    f->request_started = Py_NewRef(request_started);
    f->empty_str = PyUnicode_New(0, 0);
    f->ellipsis = PyUnicode_FromString("\u2026");
    f->sensitive_names = PyObject_GetAttrString(describer, "_sensitive_names");
    f->kinds = f->sensitive_names ? PyObject_GetAttrString(describer, "_kinds") : NULL;
    PyObject *max_len = f->kinds ? PyObject_GetAttrString(describer, "max_len") : NULL;
    PyObject *max_items = max_len ? PyObject_GetAttrString(describer, "max_items") : NULL;
    f->max_len = max_len ? PyLong_AsSsize_t(max_len) : -1;
    f->max_items = max_items ? PyLong_AsSsize_t(max_items) : -1;
    Py_XDECREF(max_len);
    Py_XDECREF(max_items);
    if (!f->ellipsis || !f->empty_str || PyErr_Occurred() || !PyDict_Check(f->sensitive_names)
            || !PyDict_Check(f->kinds) || f->max_len < 1) {
        if (!PyErr_Occurred()) PyErr_SetString(PyExc_TypeError, "not a Describer");
        Py_DECREF(f);
        return NULL;
    }
    f->offset_at = LLONG_MIN / 2; /* refreshed on the first dispatch */
    f->none_label = PyUnicode_InternFromString("None");
    if (!f->none_label) { Py_DECREF(f); return NULL; }
    return (PyObject *)f;
}

static PyMethodDef finisher_methods[] = {
    {"begin_request", (PyCFunction)(void (*)(void))finisher_begin_request, METH_FASTCALL,
     "begin_request(signal, named): Recorder.begin_request (the C version)."},
    {"describe_kwargs", (PyCFunction)finisher_describe_kwargs, METH_O,
     "describe_kwargs(named) -> what Describer.kwargs(named) returns (the C version)."},
    {NULL, NULL, 0, NULL},
};

static PyMemberDef finisher_members[] = {
    {"submit", T_OBJECT, offsetof(Finisher, submit_func), 0,
     "Publisher.submit (the function): a sink that is this, bound to a publisher, is "
     "served in C. None: every sink is called."},
    {"sink", T_OBJECT, offsetof(Finisher, sink), 0, "the recorder's sink"},
    {"ignore", T_OBJECT, offsetof(Finisher, ignore), 0, "the recorder's ignore set"},
    {NULL, 0, 0, 0, NULL},
};

static PyTypeObject FinisherType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "django_probe._accel.Finisher",
    .tp_basicsize = sizeof(Finisher),
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC | Py_TPFLAGS_HAVE_VECTORCALL,
    .tp_doc = "Recorder.finish for the common dispatch, in C (see the module docstring).",
    .tp_new = finisher_new,
    .tp_members = finisher_members,
    .tp_methods = finisher_methods,
    .tp_traverse = (traverseproc)finisher_traverse,
    .tp_clear = (inquiry)finisher_clear,
    .tp_dealloc = (destructor)finisher_dealloc,
    .tp_call = PyVectorcall_Call,
    .tp_vectorcall_offset = offsetof(Finisher, vectorcall),
};

static PyMethodDef methods[] = {
    {"site", site, METH_NOARGS, "site() -> (file, line, func) or None, like _dispatch._site()."},
    {"configure", configure, METH_VARARGS, "configure(skip_files, returned, raised)"},
    {"clock", clock_py, METH_NOARGS, "clock() -> the nests' perf_counter_ns()"},
    {"fast_frames", fast_frames_py, METH_NOARGS,
     "fast_frames() -> whether call sites are read from CPython 3.11's frames directly"},
    {"pack", pack_plain_py, METH_O,
     "pack(obj) -> the msgpack bytes msgspec would write, or None: not ours to pack."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "_accel", "The probe's hot path in C (see _accel.c).", -1, methods,
    NULL, NULL, NULL, NULL,
};

PyMODINIT_FUNC PyInit__accel(void) {
#define INTERN(var, text) if (!(var = PyUnicode_InternFromString(text))) return NULL
    INTERN(s_state, "state");
    INTERN(s_state_key, "django_probe._accel.thread_state");
    INTERN(s_on_failure, "on_failure");
    INTERN(s_finish_py, "_finish_py");
    INTERN(s_queue, "_queue");
    INTERN(s_queue_max, "_queue_max");
    INTERN(s_dropped_queue, "_dropped_queue");
    INTERN(s_running, "_running");
    INTERN(s_start, "_start");
    INTERN(s_count_lost, "count_lost");
    INTERN(s_append, "append");
    INTERN(s_dunder_dict, "__dict__");
    INTERN(s_state_attr, "_state");
    INTERN(s_method, "method");
    INTERN(s_path, "path");
    INTERN(s_request_method, "REQUEST_METHOD");
    INTERN(s_path_info, "PATH_INFO");
    INTERN(s_environ, "environ");
    INTERN(s_wake_at, "_wake_at");
    INTERN(s_wake_up, "_wake_up");
    INTERN(s_idle, "_idle");
    INTERN(s_x_request_id, "HTTP_X_REQUEST_ID");
    INTERN(s_request_prefix, "_request_prefix");
    INTERN(s_request_counter, "_request_counter");
    INTERN(s_begin_request_py, "_begin_request_py");
    INTERN(s_space, " ");
    INTERN(s_space_paren, " (");
    INTERN(s_environ_open, "<WSGI environ ");
    INTERN(s_keys_close, " keys)>");
    INTERN(s_unsaved, " (unsaved)");
    INTERN(s_pk_is, " pk=");
    if (PyType_Ready(&FinisherType) < 0 || PyType_Ready(&NestType) < 0
            || PyType_Ready(&EnterType) < 0 || PyType_Ready(&ThreadStateType) < 0
            || PyType_Ready(&CounterType) < 0)
        return NULL;
    PyObject *m = PyModule_Create(&module);
    if (!m) return NULL;
    if (PyModule_AddObjectRef(m, "Finisher", (PyObject *)&FinisherType) < 0
            || PyModule_AddObjectRef(m, "Nest", (PyObject *)&NestType) < 0
            || PyModule_AddObjectRef(m, "Enter", (PyObject *)&EnterType) < 0
            || PyModule_AddObjectRef(m, "ThreadState", (PyObject *)&ThreadStateType) < 0
            || PyModule_AddObjectRef(m, "Counter", (PyObject *)&CounterType) < 0) {
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
