"""Allow ``python -m {{ cookiecutter.package }}``."""

from {{ cookiecutter.package }}.cli import main

main()
