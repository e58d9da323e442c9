"""pymoo operators and algorithms (imported as ``fdnmoo.operators``)."""
