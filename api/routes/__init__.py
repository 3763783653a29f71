"""Thin routes: validate, call the engine, shape the response."""
