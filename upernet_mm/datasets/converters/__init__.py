"""Converters of published datasets into the unified parsing layout
(``upernet_mm.datasets.unified_parsing_layout``): the full ADE20K release
(objects, parts, scenes), OpenSurfaces (materials) and Pascal-Part (objects
and parts). ``tools/dataset_converters/`` holds their command lines."""
