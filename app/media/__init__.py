"""Media: capture, synthetic sources, tracks, audio mixing, quality. Qt-free."""
