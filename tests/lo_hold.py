"""Run by the system Python: open a file in LibreOffice for editing, as a person who
has it open does, say "open", and close it when a line arrives on stdin.
Usage: python3 lo_hold.py PATH PROFILE_DIR."""
import sys

from lo_uno import load, office


def main(path, profile):
    with office(profile) as (desktop, _ctx):
        doc = load(desktop, path)
        print("open", flush=True)
        sys.stdin.readline()
        doc.close(True)


if __name__ == "__main__":
    main(*sys.argv[1:])
