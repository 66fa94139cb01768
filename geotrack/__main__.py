"""``python -m geotrack`` runs the ``geotrack`` command."""

from geotrack.cli.main import cli

if __name__ == "__main__":
    cli()
