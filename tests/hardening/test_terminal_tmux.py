"""Escape sequences in the data never reach a real terminal (tmux, read back with ``capture-pane``).

A pipe cannot show this attack: click strips ANSI sequences only when stdout is *not* a
terminal, and a terminal is where a title change (OSC 0), a clipboard write (OSC 52), a
screen clear or a colour takes effect.  So each command runs in a real pseudo-terminal
inside a private tmux server, and the test then asks tmux what happened to the pane: its
title, its paste buffers (``set-clipboard on``), the colours of its cells (``capture-pane
-e``) and its text.  A control run that prints the same sequences raw shows that each
check sees the attack when it gets through.  The test waits on ``tmux wait-for`` signals,
never for a fixed time.
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from geotrack.records import add_crossing
from geotrack.trade import add_event
from geotrack.workspace import init_workspace
from hardening._run import FIGURES

TITLE = "PWNED-TITLE"
CLIP = "cHduZWQ="  # base64 of "pwned"
ATTACK = (
    f"\x1b]0;{TITLE}\x07\x1b]52;c;{CLIP}\x07\x1b[31;1mRED\x1b[0m\x1b[2J\x1b[H \u202eevil\x9b31m"
)

pytestmark = pytest.mark.skipif(
    shutil.which("tmux") is None, reason="needs tmux (installed by scripts/test.sh)"
)


class Pane:
    """One tmux pane on a private server, running bash."""

    def __init__(self, tmp: Path) -> None:
        self.sock = f"geotrack-{uuid.uuid4().hex[:8]}"
        self.n = 0
        env = {
            **os.environ,
            "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
        }
        env.pop("GEOTRACK_WORKSPACE", None)
        self.tmux(
            "-f", "/dev/null", "new-session", "-d", "-s", "t", "-x", "200", "-y", "50",
            "-c", str(tmp), "bash --norc --noprofile", env=env,
        )  # fmt: skip
        self.tmux("set-option", "-g", "set-clipboard", "on")
        self.tmux("set-option", "-g", "allow-rename", "on")
        self.tmux("set-option", "-g", "history-limit", "5000")

    def tmux(self, *args: str, env: dict | None = None) -> str:
        res = subprocess.run(
            ["tmux", "-L", self.sock, *args], capture_output=True, text=True, env=env, timeout=60
        )
        assert res.returncode == 0, res.stderr
        return res.stdout

    def run(self, command: str) -> None:
        """Type *command* into the pane and wait until it has finished."""
        self.n += 1
        signal = f"done-{self.n}"
        self.tmux(
            "send-keys", "-t", "t", f"{command}; tmux -L {self.sock} wait-for -S {signal}", "Enter"
        )
        subprocess.run(["tmux", "-L", self.sock, "wait-for", signal], timeout=120, check=True)

    def title(self) -> str:
        return self.tmux("display-message", "-p", "-t", "t", "#{pane_title}").strip()

    def buffers(self) -> str:
        return self.tmux("list-buffers", "-F", "#{buffer_sample}")

    def cells(self) -> str:
        """The pane's history and screen with each cell's attributes as SGR sequences."""
        return self.tmux("capture-pane", "-p", "-e", "-S", "-", "-t", "t")

    def text(self) -> str:
        return self.tmux("capture-pane", "-p", "-J", "-S", "-", "-t", "t")

    def reset(self) -> None:
        self.run("printf '\\033]0;clean\\007'; clear")
        self.tmux("clear-history", "-t", "t")
        for _ in range(50):
            if "buffer" not in self.tmux("list-buffers"):
                break
            self.tmux("delete-buffer")

    def close(self) -> None:
        subprocess.run(["tmux", "-L", self.sock, "kill-server"], capture_output=True, timeout=60)


@pytest.fixture
def pane(tmp_path):
    p = Pane(tmp_path)
    yield p
    p.close()


def _acted(pane: Pane) -> list[str]:
    """What the attack did to the pane, if anything."""
    done = []
    if pane.title() == TITLE:
        done.append("retitled the pane")
    if "pwned" in pane.buffers():
        done.append("wrote the clipboard")
    cells = pane.cells()
    if "\x1b[31" in cells or "\x1b[1;31" in cells or "\x1b[31;1" in cells:
        done.append("coloured text red")
    if "\u202e" in pane.text():
        done.append("put a bidi override on screen")
    return done


def test_the_checks_see_the_attack_when_it_gets_through(pane, tmp_path):
    (tmp_path / "attack.txt").write_text(ATTACK + "\n")
    pane.reset()
    pane.run("cat attack.txt")
    assert {"retitled the pane", "wrote the clipboard", "coloured text red"} <= set(_acted(pane))


def test_hostile_data_and_names_never_act_on_the_terminal(pane, tmp_path):
    ws = init_workspace(tmp_path / "ws")
    add_crossing(
        ws,
        {"lon": "127.2696", "lat": "41.5195", "kind": "ford", "source_name": ATTACK,
         "notes": ATTACK, "name": ATTACK, "reported": "2025-11-02"},
    )  # fmt: skip
    add_event(ws.path, date="2025-11", label=ATTACK, source=ATTACK)
    w = shlex.quote(str(ws.path))
    ansi_c = "$'\\e]0;" + TITLE + "\\a\\e[31mRED'"
    commands = [
        f"geotrack -w {w} crossings list",
        f"geotrack -w {w} crossings show YLU-0001",
        f"geotrack -w {w} crossings history",
        f"geotrack -w {w} trade join",  # CSV straight to the terminal
        f"geotrack -w {w} trade events list",
        f"geotrack -w {w} crossings show {ansi_c}",  # an error quoting the value
        f"geotrack -w {w} crossings list --kind {ansi_c}",  # click's own usage error
        f"geotrack -w {w} validate {ansi_c}",  # click's "no such option"
        # a folder named with escapes (typed as $'...': raw escapes would drive bash's editor)
        f"geotrack init {ansi_c}",  # the path in its messages
        f"geotrack -w {ansi_c} validate",
        f"geotrack -w {w} -v density --simulations 9",
    ]
    for command in commands:
        pane.reset()
        pane.run(command)
        assert _acted(pane) == [], f"`{command}`: {_acted(pane)}\n{pane.text()[-1500:]}"
        FIGURES["terminal (tmux): commands checked"] += 1
    # the text is shown, escaped, not dropped
    pane.reset()
    pane.run(f"geotrack -w {w} crossings show YLU-0001")
    assert f"\\u001b]0;{TITLE}\\u0007" in pane.text()
