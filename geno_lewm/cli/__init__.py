"""Console-script entry points of GenoLeWM (each module exposes ``main``)."""
