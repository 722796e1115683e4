/* _colframe: decode runs of probe frames straight into store columns (optional accelerator).
 *
 * The monitor's pure-Python ingest (fastwire + batch) turns each msgpack field into a
 * Python object and then into a column: ~2.3 us per dispatch, most of the monitor's
 * time. This module reads the msgpack bytes of consecutive frames once and writes the
 * numeric columns as packed arrays, and every string as an index into one of two
 * per-call tables of distinct strings (each distinct string decoded once per call).
 *
 * It is a *subset* acceptor: a frame is taken only if it is certainly one that
 * django_probe.wire accepts in full (a frame of valid dispatches only, every string at
 * most max_str bytes, every int within int64), with exactly the values wire would
 * decode. Anything else (heartbeats, a malformed or unusual frame) ends the run and is
 * left to the Python decoders, which give wire's own verdict. tests/monitor_gui/core/
 * test_colframe.py checks the two agree, including on fuzzed input.
 *
 * Input is untrusted: every read is bounds-checked against the frame's length, and the
 * string hash is seeded per process (configure()), so crafted collisions cannot be
 * precomputed; the tables are also bounded (a run stops before they overflow).
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <string.h>

#define MAX_CHOICES 8
#define TABLE_MAX (1 << 20) /* distinct strings per table and call */

typedef struct {
    const char *s[MAX_CHOICES];
    Py_ssize_t n[MAX_CHOICES];
    int count;
} Choices;

static struct {
    int ready;
    Choices magic, methods, outcomes, kind;
    int64_t version;
    Py_ssize_t max_str, max_items, max_events, max_frame_bytes;
    uint64_t seed;
    PyObject *keepalive; /* the configure() arguments whose UTF-8 buffers we point into */
} cfg;

/* ---- growable buffers ------------------------------------------------------------ */

typedef struct {
    char *p;
    Py_ssize_t len, cap;
} Buf;

static int buf_reserve(Buf *b, Py_ssize_t extra) {
    if (b->len + extra <= b->cap) return 0;
    Py_ssize_t cap = b->cap ? b->cap : 4096;
    while (cap < b->len + extra) cap *= 2;
    char *p = PyMem_Realloc(b->p, (size_t)cap);
    if (!p) { PyErr_NoMemory(); return -1; }
    b->p = p;
    b->cap = cap;
    return 0;
}

static int buf_put(Buf *b, const void *src, Py_ssize_t n) {
    if (buf_reserve(b, n) < 0) return -1;
    memcpy(b->p + b->len, src, (size_t)n);
    b->len += n;
    return 0;
}


/* ---- string tables: distinct strings of a call, by content ---------------------- */

typedef struct {
    const char *s;
    Py_ssize_t n;
    uint64_t h;
    PyObject *obj; /* the decoded str (a new string is decoded, so validated, once) */
} Entry;

typedef struct {
    Entry *entries; /* index -> string, in first-seen order */
    Py_ssize_t len, cap;
    int32_t *slots; /* open addressing: index + 1, 0 = empty */
    Py_ssize_t nslots;
} Table;

static uint64_t hash_bytes(const char *s, Py_ssize_t n) {
    uint64_t h = cfg.seed ^ ((uint64_t)n * 0x9E3779B97F4A7C15ULL);
    while (n >= 8) {
        uint64_t w;
        memcpy(&w, s, 8);
        h = (h ^ w) * 0xBF58476D1CE4E5B9ULL;
        h ^= h >> 31;
        s += 8;
        n -= 8;
    }
    uint64_t w = 0;
    memcpy(&w, s, (size_t)n);
    h = (h ^ w) * 0x94D049BB133111EBULL;
    h ^= h >> 29;
    h *= 0xBF58476D1CE4E5B9ULL;
    return h ^ (h >> 32);
}

static int table_rehash(Table *t, Py_ssize_t nslots) {
    int32_t *slots = PyMem_Calloc((size_t)nslots, sizeof(int32_t));
    if (!slots) { PyErr_NoMemory(); return -1; }
    for (Py_ssize_t i = 0; i < t->len; i++) {
        Py_ssize_t j = (Py_ssize_t)(t->entries[i].h & (uint64_t)(nslots - 1));
        while (slots[j]) j = (j + 1) & (nslots - 1);
        slots[j] = (int32_t)(i + 1);
    }
    PyMem_Free(t->slots);
    t->slots = slots;
    t->nslots = nslots;
    return 0;
}

/* Index of the string s[0:n] in t, adding it if new; -1 with an exception set on
 * memory errors, -2 (no exception) when the table is full or s is not valid UTF-8. */
static Py_ssize_t table_index(Table *t, const char *s, Py_ssize_t n) {
    if ((t->len + 1) * 2 > t->nslots) {
        if (t->len >= TABLE_MAX) return -2;
        if (table_rehash(t, t->nslots ? t->nslots * 2 : 256) < 0) return -1;
    }
    uint64_t h = hash_bytes(s, n);
    Py_ssize_t mask = t->nslots - 1, j = (Py_ssize_t)(h & (uint64_t)mask);
    for (;;) {
        int32_t k = t->slots[j];
        if (!k) break;
        Entry *e = &t->entries[k - 1];
        if (e->h == h && e->n == n && memcmp(e->s, s, (size_t)n) == 0) return k - 1;
        j = (j + 1) & mask;
    }
    if (t->len == t->cap) {
        Py_ssize_t cap = t->cap ? t->cap * 2 : 256;
        Entry *entries = PyMem_Realloc(t->entries, (size_t)cap * sizeof(Entry));
        if (!entries) { PyErr_NoMemory(); return -1; }
        t->entries = entries;
        t->cap = cap;
    }
    PyObject *obj = PyUnicode_DecodeUTF8(s, n, "strict");
    if (!obj) {
        if (!PyErr_ExceptionMatches(PyExc_UnicodeDecodeError)) return -1;
        PyErr_Clear(); /* wire rejects it too: the Python path gives the verdict */
        return -2;
    }
    t->entries[t->len] = (Entry){s, n, h, obj};
    t->slots[j] = (int32_t)(t->len + 1);
    return t->len++;
}

/* Forget the entries added since len0 (a frame that was rolled back). */
static int table_truncate(Table *t, Py_ssize_t len0) {
    if (t->len == len0) return 0;
    for (Py_ssize_t i = len0; i < t->len; i++) Py_DECREF(t->entries[i].obj);
    t->len = len0;
    return t->nslots ? table_rehash(t, t->nslots) : 0;
}

static void table_free(Table *t) {
    for (Py_ssize_t i = 0; i < t->len; i++) Py_DECREF(t->entries[i].obj);
    PyMem_Free(t->entries);
    PyMem_Free(t->slots);
}

/* The table's strings as a new list of str. */
static PyObject *table_strings(Table *t) {
    PyObject *list = PyList_New(t->len);
    if (!list) return NULL;
    for (Py_ssize_t i = 0; i < t->len; i++) {
        Py_INCREF(t->entries[i].obj);
        PyList_SET_ITEM(list, i, t->entries[i].obj);
    }
    return list;
}

/* Strict UTF-8, as Python's decoder (no overlongs, no surrogates, at most U+10FFFF). */
static int valid_utf8(const unsigned char *s, Py_ssize_t n) {
    Py_ssize_t i = 0;
    while (i < n) {
        if (i + 8 <= n) { /* ASCII fast path */
            uint64_t w;
            memcpy(&w, s + i, 8);
            if (!(w & 0x8080808080808080ULL)) { i += 8; continue; }
        }
        unsigned char c = s[i];
        if (c < 0x80) { i++; continue; }
        int len;
        unsigned char lo = 0x80, hi = 0xbf;
        if (c >= 0xc2 && c <= 0xdf) len = 2;
        else if (c >= 0xe0 && c <= 0xef) {
            len = 3;
            if (c == 0xe0) lo = 0xa0;
            else if (c == 0xed) hi = 0x9f; /* surrogates */
        } else if (c >= 0xf0 && c <= 0xf4) {
            len = 4;
            if (c == 0xf0) lo = 0x90;
            else if (c == 0xf4) hi = 0x8f;
        } else return 0;
        if (i + len > n || s[i + 1] < lo || s[i + 1] > hi) return 0;
        for (int k = 2; k < len; k++)
            if ((s[i + k] & 0xc0) != 0x80) return 0;
        i += len;
    }
    return 1;
}

/* ---- msgpack reading ------------------------------------------------------------- */

typedef struct {
    const unsigned char *p, *end;
} Reader;

static inline int need(Reader *r, Py_ssize_t n) { return r->end - r->p >= n; }

static inline uint64_t be(const unsigned char *p, int n) {
    uint64_t v = 0;
    for (int i = 0; i < n; i++) v = (v << 8) | p[i];
    return v;
}

/* A container header (fix form, 16- and 32-bit forms): its length, or -1 if the next
 * value is not that container. */
static Py_ssize_t read_header(Reader *r, unsigned char fix, unsigned char t16,
                              unsigned char t32) {
    if (!need(r, 1)) return -1;
    unsigned char c = *r->p;
    if ((c & 0xf0) == fix) { r->p++; return c & 0x0f; }
    if (c == t16 && need(r, 3)) { r->p += 3; return (Py_ssize_t)be(r->p - 2, 2); }
    if (c == t32 && need(r, 5)) { r->p += 5; return (Py_ssize_t)be(r->p - 4, 4); }
    return -1;
}

static inline Py_ssize_t read_array(Reader *r) { return read_header(r, 0x90, 0xdc, 0xdd); }
static inline Py_ssize_t read_map(Reader *r) { return read_header(r, 0x80, 0xde, 0xdf); }

static inline int is_nil(Reader *r) {
    if (need(r, 1) && *r->p == 0xc0) { r->p++; return 1; }
    return 0;
}

/* A str of at most max_str bytes: sets *s, *n; 0 on success, -1 if not such a str. */
static int read_str(Reader *r, const char **s, Py_ssize_t *n) {
    if (!need(r, 1)) return -1;
    unsigned char c = *r->p;
    Py_ssize_t len, head;
    if ((c & 0xe0) == 0xa0) { len = c & 0x1f; head = 1; }
    else if (c == 0xd9 && need(r, 2)) { len = r->p[1]; head = 2; }
    else if (c == 0xda && need(r, 3)) { len = (Py_ssize_t)be(r->p + 1, 2); head = 3; }
    else if (c == 0xdb && need(r, 5)) { len = (Py_ssize_t)be(r->p + 1, 4); head = 5; }
    else return -1;
    if (len > cfg.max_str || !need(r, head + len)) return -1;
    *s = (const char *)r->p + head;
    *n = len;
    r->p += head + len;
    return 0;
}

/* An int within int64 (never a bool or float); 0 on success. */
static int read_int(Reader *r, int64_t *out) {
    if (!need(r, 1)) return -1;
    unsigned char c = *r->p;
    if (c <= 0x7f) { *out = c; r->p++; return 0; }
    if (c >= 0xe0) { *out = (int8_t)c; r->p++; return 0; }
    int n;
    switch (c) {
    case 0xcc: case 0xd0: n = 1; break;
    case 0xcd: case 0xd1: n = 2; break;
    case 0xce: case 0xd2: n = 4; break;
    case 0xcf: case 0xd3: n = 8; break;
    default: return -1;
    }
    if (!need(r, 1 + n)) return -1;
    uint64_t v = be(r->p + 1, n);
    if (c >= 0xd0) { /* signed: sign-extend */
        if (n < 8 && (v >> (8 * n - 1))) v |= ~0ULL << (8 * n);
        *out = (int64_t)v;
    } else {
        if (v > (uint64_t)INT64_MAX) return -1; /* fits no int64 column: Python decides */
        *out = (int64_t)v;
    }
    r->p += 1 + n;
    return 0;
}

static int read_bool(Reader *r, int *out) {
    if (!need(r, 1) || (*r->p != 0xc2 && *r->p != 0xc3)) return -1;
    *out = *r->p == 0xc3;
    r->p++;
    return 0;
}

/* Index of the str in ch (exact match), or -1. */
static int read_choice(Reader *r, const Choices *ch) {
    const char *s;
    Py_ssize_t n;
    if (read_str(r, &s, &n) < 0) return -1;
    for (int i = 0; i < ch->count; i++)
        if (ch->n[i] == n && memcmp(ch->s[i], s, (size_t)n) == 0) return i;
    return -1;
}

static inline int32_t clamp32(int64_t v) {
    return v > INT32_MAX ? INT32_MAX : v < INT32_MIN ? INT32_MIN : (int32_t)v;
}

/* ---- the run decoder ------------------------------------------------------------- */

enum { D_TS, D_DID, D_PDID, D_DUR, D_TID, D_SIGNAL, D_SENDER, D_METHOD, D_THREAD,
       D_SITE_FILE, D_SITE_LINE, D_SITE_FUNC, D_REQ_ID, D_REQ_METHOD, D_REQ_PATH, D_NRECV,
       D_RAISED, D_KWOFF, D_KWLEN,
       R_NAME, R_MODULE, R_FILE, R_LINE, R_ASYNC, R_DUR, R_OUTCOME, R_EXC_TYPE, R_TEXT,
       NCOLS };

static const char *COLUMN_NAMES[NCOLS] = {
    "ts", "did", "pdid", "dur", "tid", "signal", "sender", "method", "thread",
    "site_file", "site_line", "site_func", "req_id", "req_method", "req_path", "nrecv",
    "raised", "kwoff", "kwlen",
    "r_name", "r_module", "r_file", "r_line", "r_async", "r_dur", "r_outcome", "r_exc_type",
    "r_text"};

typedef struct {
    Buf col[NCOLS];
    Buf kwargs;
    Table names; /* bounded vocabularies: interned by the monitor */
    Table free;  /* thread names, request ids and paths, return values, messages */
    Py_ssize_t n, m;
} Run;

#define STR_INDEX(table, dest, type)                                            \
    do {                                                                        \
        const char *s_; Py_ssize_t n_;                                          \
        if (read_str(&r, &s_, &n_) < 0) return 0;                               \
        Py_ssize_t k_ = table_index(&run->table, s_, n_);                       \
        if (k_ == -1) return -1;                                                \
        if (k_ < 0) return 0;                                                   \
        dest = (type)k_;                                                        \
    } while (0)

/* The next str's index in the table, appended to column ``which``. */
#define STR_COL(table, which)                                                   \
    do { int32_t col_; STR_INDEX(table, col_, int32_t); PUTC(which, int32_t, col_); } while (0)

#define OPT_STR_INDEX(table, dest)                                              \
    do { if (is_nil(&r)) dest = -1; else STR_INDEX(table, dest, int32_t); } while (0)

#define PUTC(which, type, value) \
    do { type v_ = (type)(value); if (buf_put(&run->col[which], &v_, sizeof v_) < 0) return -1; } while (0)

/* Decode one frame into run. 1: accepted (header in *hdr); 0: not for this decoder
 * (nothing of it kept once the caller rolls back); 2: it has more than ``room``
 * dispatches (room < 0: no limit); -1: exception set. */
static int decode_frame(Run *run, const char *data, Py_ssize_t size, Py_ssize_t room,
                        PyObject **hdr) {
    Reader r = {(const unsigned char *)data, (const unsigned char *)data + size};
    const char *host, *boot;
    Py_ssize_t host_n, boot_n;
    int64_t version, pid, seq;
    if (size > cfg.max_frame_bytes || read_array(&r) != 5) return 0;
    if (read_choice(&r, &cfg.magic) != 0) return 0;
    if (read_int(&r, &version) < 0 || version != cfg.version) return 0;
    if (read_array(&r) != 3 || read_int(&r, &pid) < 0 || read_str(&r, &host, &host_n) < 0
            || read_str(&r, &boot, &boot_n) < 0)
        return 0;
    if (read_int(&r, &seq) < 0 || seq < 0) return 0;
    Py_ssize_t count = read_array(&r);
    if (count < 0 || count > cfg.max_events) return 0;
    if (room >= 0 && count > room) return 2;
    for (Py_ssize_t e = 0; e < count; e++) {
        int64_t v;
        int b;
        int32_t k;
        if (read_array(&r) != 15 || read_choice(&r, &cfg.kind) != 0) return 0;
        if (read_int(&r, &v) < 0) return 0;
        PUTC(D_TS, int64_t, v);
        if (read_int(&r, &v) < 0) return 0;
        PUTC(D_DID, int64_t, v);
        if (is_nil(&r)) v = INT64_MIN; /* NO_ID */
        else if (read_int(&r, &v) < 0 || v == INT64_MIN) return 0; /* INT64_MIN means "none" */
        PUTC(D_PDID, int64_t, v);
        STR_COL(names, D_SIGNAL);
        STR_COL(names, D_SENDER);
        if ((b = read_choice(&r, &cfg.methods)) < 0) return 0;
        PUTC(D_METHOD, int8_t, b);
        if (read_int(&r, &v) < 0 || v < 0) return 0;
        PUTC(D_DUR, int64_t, v);
        STR_COL(free, D_THREAD);
        if (read_int(&r, &v) < 0) return 0;
        PUTC(D_TID, int64_t, v);
        if (is_nil(&r)) {
            PUTC(D_SITE_FILE, int32_t, -1);
            PUTC(D_SITE_LINE, int32_t, 0);
            PUTC(D_SITE_FUNC, int32_t, -1);
        } else {
            if (read_array(&r) != 3) return 0;
            STR_COL(names, D_SITE_FILE);
            if (read_int(&r, &v) < 0) return 0;
            PUTC(D_SITE_LINE, int32_t, clamp32(v));
            STR_COL(names, D_SITE_FUNC);
        }
        if (is_nil(&r)) {
            PUTC(D_REQ_ID, int32_t, -1);
            PUTC(D_REQ_METHOD, int32_t, -1);
            PUTC(D_REQ_PATH, int32_t, -1);
        } else {
            if (read_array(&r) != 3) return 0;
            STR_COL(free, D_REQ_ID);
            STR_COL(names, D_REQ_METHOD);
            STR_COL(free, D_REQ_PATH);
        }
        /* kwargs: a map of str -> str, stored as its own msgpack bytes. */
        const unsigned char *kw = r.p;
        Py_ssize_t items = read_map(&r);
        if (items < 0 || items > cfg.max_items) return 0;
        for (Py_ssize_t i = 0; i < 2 * items; i++) { /* keys and values: kept as bytes */
            const char *s;
            Py_ssize_t n;
            if (read_str(&r, &s, &n) < 0 || !valid_utf8((const unsigned char *)s, n)) return 0;
        }
        PUTC(D_KWOFF, int32_t, run->kwargs.len);
        PUTC(D_KWLEN, int32_t, r.p - kw);
        if (run->kwargs.len + (r.p - kw) > INT32_MAX) return 0;
        if (buf_put(&run->kwargs, kw, r.p - kw) < 0) return -1;
        Py_ssize_t calls = read_array(&r);
        if (calls < 0 || calls > cfg.max_items) return 0;
        PUTC(D_NRECV, int32_t, calls);
        for (Py_ssize_t c = 0; c < calls; c++) {
            int32_t value, exc_msg;
            int outcome;
            if (read_array(&r) != 10) return 0;
            STR_COL(names, R_NAME);
            STR_COL(names, R_MODULE);
            STR_COL(names, R_FILE);
            if (read_int(&r, &v) < 0) return 0;
            PUTC(R_LINE, int32_t, clamp32(v));
            if (read_bool(&r, &b) < 0) return 0;
            PUTC(R_ASYNC, uint8_t, b);
            if (read_int(&r, &v) < 0 || v < 0) return 0;
            PUTC(R_DUR, int64_t, v);
            if ((outcome = read_choice(&r, &cfg.outcomes)) < 0) return 0;
            PUTC(R_OUTCOME, int8_t, outcome);
            OPT_STR_INDEX(free, value);
            OPT_STR_INDEX(names, k);
            PUTC(R_EXC_TYPE, int32_t, k);
            OPT_STR_INDEX(free, exc_msg);
            /* What the store shows: the message of a raised call, else its return value
             * (outcome 1 is wire.RAISED: configure() checks the order). */
            PUTC(R_TEXT, int32_t, outcome == 1 ? exc_msg : value);
        }
        if (read_bool(&r, &b) < 0) return 0;
        PUTC(D_RAISED, uint8_t, b);
        run->m += calls;
    }
    if (r.p != r.end) return 0; /* trailing bytes: msgpack and wire reject the frame */
    PyObject *h = PyUnicode_DecodeUTF8(host, host_n, "strict");
    PyObject *bt = h ? PyUnicode_DecodeUTF8(boot, boot_n, "strict") : NULL;
    if (!bt) {
        Py_XDECREF(h);
        if (PyErr_ExceptionMatches(PyExc_UnicodeDecodeError)) { PyErr_Clear(); return 0; }
        return -1;
    }
    *hdr = Py_BuildValue("(LNNLn)", (long long)pid, h, bt, (long long)seq, count);
    if (!*hdr) return -1;
    run->n += count;
    return 1;
}

typedef struct {
    Py_ssize_t col[NCOLS], kwargs, names, free, n, m;
} Mark;

static void mark(Run *run, Mark *mk) {
    for (int i = 0; i < NCOLS; i++) mk->col[i] = run->col[i].len;
    mk->kwargs = run->kwargs.len;
    mk->names = run->names.len;
    mk->free = run->free.len;
    mk->n = run->n;
    mk->m = run->m;
}

static int rollback(Run *run, Mark *mk) {
    for (int i = 0; i < NCOLS; i++) run->col[i].len = mk->col[i];
    run->kwargs.len = mk->kwargs;
    run->n = mk->n;
    run->m = mk->m;
    if (table_truncate(&run->names, mk->names) < 0) return -1;
    return table_truncate(&run->free, mk->free);
}

static void run_free(Run *run) {
    for (int i = 0; i < NCOLS; i++) PyMem_Free(run->col[i].p);
    PyMem_Free(run->kwargs.p);
    table_free(&run->names);
    table_free(&run->free);
}

PyDoc_STRVAR(decode_run_doc,
"decode_run(frames, start, max_events) -> (frames_taken, result or None, refused)\n\n"
"Decode frames[start:] while each is a frame of valid dispatches (see the module\n"
"docstring), stopping before the run would exceed max_events dispatches (a first frame\n"
"is always taken whole). result is a dict: 'headers' (pid, host, boot, seq, count) per\n"
"frame, 'n' and 'm' (dispatches and receiver calls), one bytes column per field\n"
"(int64/int32/int8/uint8, native order), 'kwargs' (the rows' msgpack maps, joined),\n"
"'names' and 'free' (the distinct strings the index columns refer to; -1 is None)\n"
"and 'texts' (per receiver call, the text the store shows). refused: the frame after\n"
"the run is one this decoder does not take (so there is no point in asking again).");

static PyObject *decode_run(PyObject *self, PyObject *args) {
    PyObject *frames;
    Py_ssize_t start, max_events;
    if (!PyArg_ParseTuple(args, "O!nn", &PyList_Type, &frames, &start, &max_events))
        return NULL;
    if (start < 0 || max_events < 1) {
        PyErr_SetString(PyExc_ValueError, "start must be >= 0 and max_events >= 1");
        return NULL;
    }
    if (!cfg.ready) {
        PyErr_SetString(PyExc_RuntimeError, "_colframe.configure() was not called");
        return NULL;
    }
    Run run;
    memset(&run, 0, sizeof run);
    PyObject *headers = PyList_New(0), *result = NULL, *names = NULL, *free_ = NULL;
    PyObject *texts = NULL;
    if (!headers) return NULL;
    Py_ssize_t total = PyList_GET_SIZE(frames), i = start;
    int refused = 0; /* frames[start + taken] is not for this decoder (not just "full") */
    for (; i < total; i++) {
        PyObject *item = PyList_GET_ITEM(frames, i);
        if (!PyBytes_CheckExact(item)) { refused = 1; break; }
        Mark mk;
        mark(&run, &mk);
        PyObject *hdr = NULL;
        Py_ssize_t room = i > start ? max_events - run.n : -1; /* a first frame: whole */
        int ok = decode_frame(&run, PyBytes_AS_STRING(item), PyBytes_GET_SIZE(item), room,
                              &hdr);
        if (ok < 0) goto fail;
        if (ok != 1) {
            refused = ok == 0;
            Py_XDECREF(hdr);
            if (rollback(&run, &mk) < 0) goto fail;
            break;
        }
        int appended = PyList_Append(headers, hdr);
        Py_DECREF(hdr);
        if (appended < 0) goto fail;
    }
    names = table_strings(&run.names);
    free_ = names ? table_strings(&run.free) : NULL;
    if (!free_) goto fail;
    Py_ssize_t taken = PyList_GET_SIZE(headers);
    if (!taken) {
        run_free(&run);
        Py_DECREF(headers);
        Py_DECREF(names);
        Py_DECREF(free_);
        return Py_BuildValue("(nOO)", (Py_ssize_t)0, Py_None, refused ? Py_True : Py_False);
    }
    texts = PyList_New(run.m);
    if (!texts) goto fail;
    const int32_t *ti = (const int32_t *)run.col[R_TEXT].p;
    for (Py_ssize_t j = 0; j < run.m; j++) {
        PyObject *t = ti[j] < 0 ? Py_None : PyList_GET_ITEM(free_, ti[j]);
        Py_INCREF(t);
        PyList_SET_ITEM(texts, j, t);
    }
    result = PyDict_New();
    if (!result) goto fail;
    for (int c = 0; c < NCOLS; c++) {
        PyObject *b = PyBytes_FromStringAndSize(run.col[c].p ? run.col[c].p : "", run.col[c].len);
        if (!b || PyDict_SetItemString(result, COLUMN_NAMES[c], b) < 0) { Py_XDECREF(b); goto fail; }
        Py_DECREF(b);
    }
    PyObject *kw = PyBytes_FromStringAndSize(run.kwargs.p ? run.kwargs.p : "", run.kwargs.len);
    if (!kw || PyDict_SetItemString(result, "kwargs", kw) < 0) { Py_XDECREF(kw); goto fail; }
    Py_DECREF(kw);
    PyObject *n = PyLong_FromSsize_t(run.n), *m = PyLong_FromSsize_t(run.m);
    int bad = !n || !m || PyDict_SetItemString(result, "n", n) < 0
              || PyDict_SetItemString(result, "m", m) < 0
              || PyDict_SetItemString(result, "headers", headers) < 0
              || PyDict_SetItemString(result, "names", names) < 0
              || PyDict_SetItemString(result, "free", free_) < 0
              || PyDict_SetItemString(result, "texts", texts) < 0;
    Py_XDECREF(n);
    Py_XDECREF(m);
    if (bad) goto fail;
    run_free(&run);
    Py_DECREF(headers);
    Py_DECREF(names);
    Py_DECREF(free_);
    Py_DECREF(texts);
    return Py_BuildValue("(nNO)", taken, result, refused ? Py_True : Py_False);
fail:
    run_free(&run);
    Py_XDECREF(headers);
    Py_XDECREF(names);
    Py_XDECREF(free_);
    Py_XDECREF(texts);
    Py_XDECREF(result);
    return NULL;
}

static int set_choices(Choices *ch, PyObject *seq) {
    PyObject *fast = PySequence_Fast(seq, "choices must be a sequence of str");
    if (!fast) return -1;
    Py_ssize_t n = PySequence_Fast_GET_SIZE(fast);
    if (n < 1 || n > MAX_CHOICES) {
        Py_DECREF(fast);
        PyErr_SetString(PyExc_ValueError, "between 1 and 8 choices");
        return -1;
    }
    for (Py_ssize_t i = 0; i < n; i++) {
        const char *s = PyUnicode_AsUTF8AndSize(PySequence_Fast_GET_ITEM(fast, i), &ch->n[i]);
        if (!s) { Py_DECREF(fast); return -1; }
        ch->s[i] = s; /* kept alive by cfg.keepalive */
    }
    ch->count = (int)n;
    Py_DECREF(fast);
    return 0;
}

PyDoc_STRVAR(configure_doc,
"configure(magic, version, kind, methods, outcomes, max_str, max_items, max_events,\n"
"          max_frame_bytes, seed)\n\n"
"Set the wire constants (from django_probe.wire) and the hash seed. outcomes[1] must\n"
"be the 'raised' outcome. Call once before decode_run().");

static PyObject *configure(PyObject *self, PyObject *args) {
    PyObject *magic, *kind, *methods, *outcomes;
    long long version;
    unsigned long long seed;
    if (!PyArg_ParseTuple(args, "ULUOOnnnnK", &magic, &version, &kind, &methods, &outcomes,
                          &cfg.max_str, &cfg.max_items, &cfg.max_events,
                          &cfg.max_frame_bytes, &seed))
        return NULL;
    cfg.ready = 0;
    PyObject *magics = PyTuple_Pack(1, magic), *kinds = PyTuple_Pack(1, kind);
    if (!magics || !kinds || set_choices(&cfg.magic, magics) < 0
            || set_choices(&cfg.kind, kinds) < 0 || set_choices(&cfg.methods, methods) < 0
            || set_choices(&cfg.outcomes, outcomes) < 0) {
        Py_XDECREF(magics);
        Py_XDECREF(kinds);
        return NULL;
    }
    Py_XSETREF(cfg.keepalive, Py_BuildValue("(NNOO)", magics, kinds, methods, outcomes));
    if (!cfg.keepalive) return NULL;
    cfg.version = version;
    cfg.seed = seed;
    cfg.ready = 1;
    Py_RETURN_NONE;
}

static PyMethodDef methods[] = {
    {"decode_run", decode_run, METH_VARARGS, decode_run_doc},
    {"configure", configure, METH_VARARGS, configure_doc},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "_colframe",
    "Decode runs of probe frames straight into store columns (see _colframe.c).", -1, methods,
};

PyMODINIT_FUNC PyInit__colframe(void) { return PyModule_Create(&module); }
