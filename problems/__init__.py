"""pymoo Problem classes and planning encodings (imported as ``fdnmoo.problems``)."""
