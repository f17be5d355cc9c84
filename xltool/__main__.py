"""`python -m xltool`: the same as the `xltool` command."""
from .cli import main

if __name__ == "__main__":  # guarded: worker processes import this module too
    main()
