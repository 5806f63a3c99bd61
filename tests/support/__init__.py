"""Test harness helpers shared by several test packages."""
