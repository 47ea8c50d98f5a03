"""TF1's model-building library, built from graph/ and ops/ only."""
