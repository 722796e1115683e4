"""The recording bench_scale opens at 1M: dispatches of a large project, generated once."""

from __future__ import annotations

import random

N_SENDERS, N_SIGNALS, N_RECEIVERS, N_APPS = 1_000, 50, 200, 60
DATA_NAME = "bench-scale-1m-v2.jsonl.zst"
DJANGO_SIGNALS = [f"django.db.models.signals.{s}" for s in (
    "pre_init", "post_init", "pre_save", "post_save", "pre_delete", "post_delete",
    "m2m_changed", "class_prepared", "pre_migrate", "post_migrate")] + [
    "django.core.signals.request_started", "django.core.signals.request_finished",
    "django.core.signals.got_request_exception", "django.core.signals.setting_changed",
    "django.test.signals.template_rendered", "django.contrib.auth.signals.user_logged_in",
    "django.contrib.auth.signals.user_logged_out",
    "django.contrib.auth.signals.user_login_failed"]


def sender_name(i: int) -> str:
    """Senders named like real ones: "app<k>.Model<j>" across N_APPS apps."""
    return f"app{i % N_APPS}.Model{i // N_APPS}"


def generate(path: str, n: int = 1_000_000, seed: int = 13) -> None:
    """Write ``n`` dispatches of the issue's shape to ``path`` (built with django_probe.wire).

    Senders are Zipf-popular and each uses ~4 signals; each signal has 4 receivers
    "pkg<k>.receivers.handler_<n>", of which a dispatch calls 2 or 3 depending on its
    sender (receivers connected with ``sender=``; 2.5 a dispatch, the real recording has
    3.1, and the store keeps 3 a dispatch at 1M before evicting); a quarter of the
    dispatches are nested in the previous one, an eighth belong to a request, 0.5 %
    raise. Four processes, frames of 1,000 events.
    """
    from django_probe import wire
    from monitor_gui.core.recording import RecordingWriter

    rng = random.Random(seed)
    signals = DJANGO_SIGNALS + [f"pkg{k}.signals.event_{k}" for k in
                                range(N_SIGNALS - len(DJANGO_SIGNALS))]
    sig_weight = [1 / (r + 1) for r in range(N_SIGNALS)]
    uses = [rng.choices(range(N_SIGNALS), sig_weight, k=4) for _ in range(N_SENDERS)]
    sender_weight = [1 / (r + 1) ** 0.8 for r in range(N_SENDERS)]
    site = wire.CallSite("/app/pkg/models.py", 120, "save")

    def calls(s: int, snd: int, dur: int, fail: bool) -> list[wire.ReceiverCall]:
        out = []
        for j in range(2 + snd % 2):
            r = 4 * s + (snd + j) % 4
            mod = f"pkg{r // 8}.receivers"
            if fail and j == 0:
                out.append(wire.ReceiverCall(f"handler_{r}", mod, "/app/pkg/receivers.py", 9,
                                             False, dur, wire.RAISED, None,
                                             "builtins.ValueError", "boom"))
            else:
                out.append(wire.ReceiverCall(f"handler_{r}", mod, "/app/pkg/receivers.py", 9,
                                             False, dur, wire.RETURNED, "None", None, None))
        return out

    procs = [wire.Proc(1000 + p, "bench", f"boot{p}") for p in range(4)]
    seqs = [0] * len(procs)
    ids = [0] * len(procs)
    t = 1_765_000_000_000_000_000
    senders = rng.choices(range(N_SENDERS), sender_weight, k=n)
    with RecordingWriter(path) as writer:
        for start in range(0, n, 1_000):
            p = (start // 1_000) % len(procs)
            events = []
            for i in range(start, min(n, start + 1_000)):
                snd = senders[i]
                s = uses[snd][i % 4]
                ids[p] += 1
                dur = rng.randint(2_000, 400_000)
                fail = rng.random() < 0.005
                request = (wire.RequestInfo(f"req-{i // 8}", "GET", "/items/")
                           if i % 8 == 0 else None)
                parent = ids[p] - 1 if ids[p] > 1 and i % 4 == 1 else None
                events.append(wire.Dispatch(
                    wire.KIND_DISPATCH, t, ids[p], parent, signals[s], sender_name(snd),
                    "send", dur, "MainThread", 7, site, request,
                    {"instance": f"<obj {i % 97}>"}, calls(s, snd, dur // 5, fail), fail, None))
                t += 1_800_000  # 1M dispatches over ~30 minutes
            writer.write(wire.Frame(procs[p], seqs[p], events, 0))
            seqs[p] += len(events)

