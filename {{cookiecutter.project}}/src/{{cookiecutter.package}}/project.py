"""What the cookiecutter answers decided: the only module with template values in it."""

from typing import Literal

PROJECT = "{{ cookiecutter.project }}"
PROJECT_NAME = {{ cookiecutter.project_name | tojson }}
DESCRIPTION = {{ cookiecutter.description | tojson }}
TASK: Literal["binary_classification", "regression"] = "{{ cookiecutter.task }}"
