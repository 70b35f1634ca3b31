"""JSON Schemas of c2m's file formats, shipped with the package (copies live in ``docs/``)."""
