"""Adapters to the outside world: files, data sets, the MLflow tracking server and registry."""
