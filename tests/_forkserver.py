"""A fork server: real ``geotrack`` processes forked from one warmed-up Python.

Starting Python and importing geotrack costs about a second per command; tests that run
hundreds of commands (the CLI fuzz, every ``--help`` and README example) run them instead
in forks of one process that imported every command module (and any *preload*) once.

:class:`ForkServer` starts that process, listening on a Unix socket in a private folder.
Each connection is one command: the client sends its argv, working folder, environment
and time limit (JSON) and its stdin, stdout and stderr as file descriptors (SCM_RIGHTS).
The server forks a supervisor per connection (so ``geotrack a | geotrack b`` runs both
at once, as a shell would), which forks the command with those descriptors as 0, 1 and 2,
waits for it (or its time limit, or the client going away) and answers with its exit
status, peak memory (``wait4``) and time.  The command is a real process: its own file
descriptors, environment, working folder and exit status.

Two clients:

* :meth:`ForkServer.run`: one command, output captured (the fuzz test);
* the executable ``geotrack`` in :attr:`ForkServer.bin` (:func:`relay`): put first on
  ``PATH``, shell pipelines run it as they would run geotrack; it passes on its own argv,
  cwd, environment and descriptors and exits as the command did (killed by a signal: the
  same signal), so ``bash -o pipefail`` sees real exit codes.

"""

from __future__ import annotations

import json
import os
import select
import signal
import socket
import struct
import sys
import time

# Nothing more at the top: the relay (a Python start per command) loads this module.
_HEADER = struct.Struct("!Q")  # the length of the JSON job that follows


class Ran:
    """One finished command run by the fork server (a plain class: see the imports).

    Attributes: ``argv``, ``returncode`` (negative: killed by that signal), ``stdout``,
    ``stderr``, ``peak_mb`` (peak resident memory), ``seconds``, ``timed_out``.
    """

    def __init__(self, argv: list[str], returncode: int, stdout: bytes, stderr: bytes,
                 peak_mb: float, seconds: float, timed_out: bool) -> None:  # fmt: skip
        self.argv, self.returncode, self.stdout, self.stderr = argv, returncode, stdout, stderr
        self.peak_mb, self.seconds, self.timed_out = peak_mb, seconds, timed_out


def _ask(sock_path: str, job: dict, fds: list[int]) -> dict:
    """Send *job* and *fds* to the server, wait for the command's end, return the answer."""
    data = json.dumps(job).encode()
    data = _HEADER.pack(len(data)) + data
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.connect(sock_path)
        sent = socket.send_fds(s, [data], fds)
        s.sendall(data[sent:])
        answer = b"".join(iter(lambda: s.recv(65536), b""))
    return json.loads(answer)


def relay(sock_path: str) -> None:
    """Run ``geotrack ARGV`` in the server with this process's cwd, env and fds; exit as it did."""
    job = {"argv": sys.argv[1:], "cwd": os.getcwd(), "env": dict(os.environ), "timeout": None}
    rc = _ask(sock_path, job, [0, 1, 2])["rc"]
    if rc < 0:  # killed by a signal: die of the same one
        signal.signal(-rc, signal.SIG_DFL)
        os.kill(os.getpid(), -rc)
    os._exit(rc)


class ForkServer:
    """Run ``geotrack ARGS`` many times in forks of one prepared process (see module doc).

    Parameters
    ----------
    env : dict
        The server's environment, and the environment of :meth:`run`'s commands.
    preload : tuple of str
        Modules imported once in the server besides geotrack's command modules.
    """

    def __init__(self, env: dict[str, str], preload: tuple[str, ...] = ()) -> None:
        import subprocess
        import tempfile

        self.env = env
        #: The folder holding the ``geotrack`` relay (put it first on PATH) and the socket.
        self.bin = tempfile.mkdtemp(prefix="geotrack-fork-")
        self.socket = os.path.join(self.bin, "socket")
        here = os.path.dirname(os.path.abspath(__file__))
        shim = os.path.join(self.bin, "geotrack")
        with open(shim, "w") as f:
            f.write(f"#!{sys.executable} -IS\nimport sys\nsys.path.insert(0, {here!r})\n")
            f.write(f"from _forkserver import relay\nrelay({self.socket!r})\n")
        os.chmod(shim, 0o700)
        self.proc = subprocess.Popen(
            [sys.executable, __file__, self.socket, *preload],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            env=env,
        )
        assert self.proc.stdout is not None
        if self.proc.stdout.readline() != b"ready\n":
            raise RuntimeError(f"the fork server did not start (exit {self.proc.wait()})")

    def run(self, argv: list[str], *, cwd: str | os.PathLike[str], timeout: float = 120) -> Ran:
        """Run ``geotrack ARGV`` in *cwd* with stdin empty; its output captured."""
        import tempfile

        job = {"argv": [str(a) for a in argv], "cwd": str(cwd), "env": self.env}
        job["timeout"] = timeout
        with (
            open(os.devnull, "rb") as stdin,
            tempfile.TemporaryFile() as out,
            tempfile.TemporaryFile() as err,
        ):
            d = _ask(self.socket, job, [stdin.fileno(), out.fileno(), err.fileno()])
            out.seek(0)
            err.seek(0)
            stdout, stderr = out.read(), err.read()
        return Ran(
            job["argv"], d["rc"], stdout, stderr, d["peak_kib"] / 1024, d["s"], d["timed_out"]
        )

    def close(self) -> None:
        """Stop the server (it exits when its stdin closes) and remove its folder."""
        import shutil

        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.close()
        self.proc.wait(timeout=60)
        self.proc.stdout.close()
        shutil.rmtree(self.bin, ignore_errors=True)


def _receive(conn: socket.socket) -> tuple[dict, list[int]]:
    data, fds, _, _ = socket.recv_fds(conn, 65536, 3)
    while len(data) < _HEADER.size or len(data) < _HEADER.size + _HEADER.unpack_from(data)[0]:
        more = conn.recv(65536)
        if not more:
            raise EOFError("the client went away before sending its job")
        data += more
    return json.loads(data[_HEADER.size :]), fds


def _command(job: dict, fds: list[int]) -> None:
    """In the forked command: take the client's descriptors, folder and env; run; exit."""
    code: object = 99
    try:
        for target, fd in enumerate(fds):
            os.dup2(fd, target)
            os.close(fd)
        os.chdir(job["cwd"])
        os.environ.clear()
        os.environ.update(job["env"])
        sys.argv = ["geotrack", *job["argv"]]
        from geotrack.cli.main import cli

        code = cli.main(args=job["argv"], prog_name="geotrack", standalone_mode=False)
    except SystemExit as e:
        code = e.code if isinstance(e.code, int) else 99
    except BaseException:
        import traceback

        traceback.print_exc()
        code = 99
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except BaseException:
        pass
    os._exit(code if isinstance(code, int) else 99)


def _supervise(conn: socket.socket) -> None:
    """In a fork of the server: run one job, wait for it, answer, exit."""
    job, fds = _receive(conn)
    t0 = time.monotonic()
    pid = os.fork()
    if pid == 0:
        conn.close()
        _command(job, fds)
    for fd in fds:
        os.close(fd)
    pidfd = os.pidfd_open(pid)
    ready, _, _ = select.select([pidfd, conn], [], [], job["timeout"])
    timed_out = pidfd not in ready
    if timed_out:  # the time limit, or the client went away (killed): stop the command
        os.kill(pid, signal.SIGKILL)
    _, status, usage = os.wait4(pid, 0)
    answer = {
        "rc": os.waitstatus_to_exitcode(status),
        "peak_kib": usage.ru_maxrss,
        "s": time.monotonic() - t0,
        "timed_out": timed_out,
    }
    conn.sendall(json.dumps(answer).encode())
    conn.close()


def _serve(sock_path: str, preload: list[str]) -> None:
    """The server: import, listen, fork a supervisor per connection until stdin closes."""
    import importlib

    from geotrack.cli.main import COMMANDS

    for target in COMMANDS.values():  # import every command module before forking
        importlib.import_module(target.split(":")[0])
    for extra in preload:
        importlib.import_module(extra)
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(sock_path)
    listener.listen(64)
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # supervisors are reaped by the kernel
    sys.stdout.buffer.write(b"ready\n")
    sys.stdout.flush()
    while True:
        ready, _, _ = select.select([listener, sys.stdin], [], [])
        if sys.stdin in ready:  # the test run closed it (or ended): stop
            return
        conn, _ = listener.accept()
        if os.fork() == 0:
            listener.close()
            signal.signal(signal.SIGCHLD, signal.SIG_DFL)
            try:
                _supervise(conn)
            except BaseException:
                import traceback

                traceback.print_exc()
            finally:
                os._exit(0)
        conn.close()


if __name__ == "__main__":
    _serve(sys.argv[1], sys.argv[2:])
