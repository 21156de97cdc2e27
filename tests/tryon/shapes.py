"""Garment outlines drawn by more than one test module (points on a 600x600 canvas)."""

# A tee with long sleeves laid down along its sides, parting from the torso only at a slit low down (the usual
# flat lay of a long-sleeved tee), the cuffs near the hem.
LONG_SLEEVED_TEE = [
    (250, 60),
    (300, 75),
    (350, 60),
    (400, 75),
    (440, 100),
    (470, 470),
    (420, 470),
    (400, 300),
    (400, 520),
    (200, 520),
    (200, 300),
    (180, 470),
    (130, 470),
    (160, 100),
]
