"""One module per exercise: its names, points, probes, judges, misconceptions and hints."""
