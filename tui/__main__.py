"""`python -m tui`: the consultants' terminal UI."""

from tui.app import run

if __name__ == "__main__":
    raise SystemExit(run())
