"""The shared basics: one bounding-box convention, mask helpers, option choices, the category table."""

from __future__ import annotations

import numpy as np

from imaging.masks import bounding_box, fill_holes, fill_small_holes, largest_component, union
from imaging.options import CATEGORY_CHOICES, DEFAULT_CATEGORY, DEFAULT_QUALITY, QUALITY_CHOICES
from imaging.types import Box, Category


def test_bounding_box_is_exclusive_at_the_far_end_and_slices_the_mask_exactly():
    mask = np.zeros((40, 60), bool)
    mask[10:20, 30:45] = True
    box = bounding_box(mask)
    assert box == Box(30, 10, 45, 20) and (box.width, box.height) == (15, 10)
    assert mask[box.slices].all() and mask[box.slices].sum() == mask.sum()
    assert bounding_box(np.zeros((5, 5), bool)) is None


def test_padded_box_stays_inside_the_image():
    assert Box(2, 3, 10, 12).padded(5, 14, 11) == Box(0, 0, 11, 14)
    assert Box(20, 20, 30, 30).padded(4, 100, 100) == Box(16, 16, 34, 34)


def test_holes_and_components():
    ring = np.zeros((30, 30), bool)
    ring[5:25, 5:25] = True
    ring[10:20, 10:20] = False  # a 100-pixel hole
    assert fill_holes(ring)[15, 15]
    assert not fill_small_holes(ring, 100)[15, 15] and fill_small_holes(ring, 101)[15, 15]
    two = np.zeros((30, 30), bool)
    two[0:10, 0:10] = True  # 100 pixels
    two[20:24, 20:24] = True  # 16 pixels
    assert largest_component(two).sum() == 100
    assert largest_component(two, keep_ratio=0.1).sum() == 116
    assert union({"a": two, "b": ring}, "a", "missing").sum() == 116


def test_options_list_every_category_and_quality():
    assert CATEGORY_CHOICES == ("auto", "tops", "bottoms", "one-pieces")
    assert set(CATEGORY_CHOICES[1:]) == {c.value for c in Category}
    assert DEFAULT_CATEGORY in CATEGORY_CHOICES and DEFAULT_QUALITY in QUALITY_CHOICES
    assert QUALITY_CHOICES == ("standard", "high")


def test_every_category_has_one_handler_in_the_classical_engine():
    from imaging.tryon.classical.categories import CATEGORIES, garment_category

    assert set(CATEGORIES) == set(Category)
    for category, handler in CATEGORIES.items():
        assert handler.category == category
        assert garment_category(category.value) is handler
