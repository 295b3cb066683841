"""The differential scenarios (written for this project; none is taken from upstream's or
edx-platform's tests). Every module here is imported by the runner; each ``@scenario`` function
registers itself."""
