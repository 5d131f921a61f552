"""``python -m assumer`` runs the command line."""

from assumer.cli import main

if __name__ == "__main__":
    main()
