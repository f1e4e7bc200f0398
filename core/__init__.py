"""Plumbing every app may use and that holds no models: images, bulk writes, tasks, row locks,
bounded input and request handling. Imports nothing from the project's apps."""
