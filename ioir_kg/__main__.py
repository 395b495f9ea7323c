"""``python -m ioir_kg`` runs the command-line interface."""

from ioir_kg.cli import main

if __name__ == "__main__":
    main()
