"""drs stage."""
