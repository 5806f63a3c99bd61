"""``python -m harmonize.cli``: the same as the ``harmonize`` command."""

from harmonize.cli import main

if __name__ == "__main__":  # pragma: no cover
    main()
