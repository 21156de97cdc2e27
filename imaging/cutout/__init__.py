"""Product cut-out: a clean alpha matte for one product photo, used by the catalog and the try-on.

Two methods, chosen per image:

* ``plain`` — studio / plain backgrounds (white sweep, grey card, a smooth
  gradient). The background is modelled from the image borders as a smooth
  quadratic colour surface in Lab, every pixel's colour distance to that model
  gives a soft alpha, and the matte is cleaned up (specks, interior holes,
  the original photo's soft shadow) and refined at the edge. Precise where it
  applies: the edge follows the real colour transition, and holes that show the
  background (mug handles, bag straps, strap tops) stay open.
* ``u2net`` — busy backgrounds, where no colour model of the border holds:
  the small U2-Net salient-object network (``models/u2netp.onnx``), its
  320x320 output upsampled and refined with a guided filter on the photo.

Colours at the edge are decontaminated (the background's share removed) so a
product cut from a grey card does not carry a grey fringe onto a dark backdrop.

Plain Python: numpy + OpenCV + onnxruntime, no Django.
"""

from .cut import METHODS, Cutout, cut_out

__all__ = ["METHODS", "Cutout", "cut_out"]
