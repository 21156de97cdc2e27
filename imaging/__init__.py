"""The image pipelines and what they share, as plain Python.

Nothing here imports Django or Celery (a test reads every import): the web app's
tasks call into this package, and benchmarks, tools and tests use it directly.

Layers, each importing only those above it:

* core: ``errors``, ``progress``, ``stages`` (stage names and labels), ``options``
  (choices and defaults), ``types`` (``Category``, ``Box``, mask and image aliases),
  ``masks``, ``debug``, ``image_io``;
* models: ``onnx_runtime`` (sessions) and ``models`` (the registry read from
  ``models/manifest.json``: what each model takes and gives);
* ``cutout``: the product cut-out (background model, plain matte, U-Net, edges);
* pipelines: ``catalog`` (product photo -> catalog images) and ``tryon`` (engines
  behind one interface; ``tryon.classical`` with one module per garment category).
"""
