"""One router per resource of the DRS API."""
