"""Run untrusted code in worker processes, and bring back only plain data.

Shape (Linux, fork-based):

    grader process ── socketpair ──> nursery (imports torch once, never sees a reference result)
         ▲  ▲  ▲                          │ fork (again whenever a zygote dies)
         │  │  └──── socketpair ───────> zygote
         │  │                             │ fork per job
         │  └─ output pipe (stdout/stderr, truncated) ─┐
         └──── result pipe (length-prefixed JSON) ─────┴── worker: limits, load, probes

* The nursery is forked before the grader has read any reference solution or
  result, so a worker cannot find the expected answers in its own memory. A
  worker that kills its zygote (its parent) costs only its own exercise: the
  grader gets a fresh zygote from the nursery and reruns, one at a time, the
  other jobs that died with it.
* A worker writes results on a private pipe, not on stdout: what the
  submission prints cannot forge a verdict. Frames are length-prefixed JSON
  (no pickle), read by `grader.protocol.decode_frame`, and judged in the grader.
* Each worker is a session leader (`setsid`): on timeout or when it ends,
  its whole process group is killed, children included; `PR_SET_PDEATHSIG`
  ends workers and zygote if the grader dies. Zygote and nursery are child
  subreapers: whatever a worker started that left its group (a new session,
  a daemon) is adopted by the zygote once orphaned, and killed.
* Only well-formed frames are accepted (`protocol.decode_frame`); anything else on
  the result pipe is tampering (`bad_channel`), never a crash of the grader.
* Limits: wall clock (grader side), writable memory (RLIMIT_DATA) and file size.

The package, by process:

    runner.py     the grader: `Sandbox`, its queue, its deadlines, zygote restarts
    running.py    the grader: a running worker's channels, `Outcome`
    zygote.py     the grader: its handles on the zygote and a notebook's zygote
    nursery.py    the nursery, the zygote, a worker's first steps (confine, limits)
    processes.py  both sides: parents, process groups, orphans

The spawn backend (any system; `--backend spawn`), same interface, no fork:

    spawn.py          the grader: `SpawnSandbox`, each job in a fresh interpreter
    pool.py           the grader: interpreters started ahead of need (torch imported)
    tree.py           the grader: a spawned worker's process tree (psutil), killed, watched
    winjob.py         the grader: Windows' Job Objects
    exercise_spec.py  both: the check code a spawned worker imports, by name
    alarm.py          a worker: SIGALRM's stand-in where there is none (Windows)

and `grader/spawn_worker.py`, the spawned worker itself.
"""

from grader.protocol import FRAME_KEYS, MAX_NOTE_FRAME_BYTES, Limits
from grader.sandbox.nursery import send_frame, zygote_loop
from grader.sandbox.runner import Sandbox, scratch_dir
from grader.sandbox.running import KILLED_ZYGOTE, NOTEBOOK_GONE, SANDBOX_GONE, Outcome

__all__ = ["FRAME_KEYS", "KILLED_ZYGOTE", "MAX_NOTE_FRAME_BYTES", "NOTEBOOK_GONE",
           "SANDBOX_GONE", "Limits", "Outcome", "Sandbox", "scratch_dir", "send_frame",
           "zygote_loop"]
