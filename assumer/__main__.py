"""``python -m assumer`` runs the command line."""

from assumer.cli.entry import main

if __name__ == "__main__":
    main()
