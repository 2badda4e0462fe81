import numpy as np
import pytest

from sklipo.datasets import segment_boxes

RND_SEED = 0
ROWS, COLS = np.ogrid[:120, :160]


def _disc(cy, cx, r):
    return (ROWS + 0.5 - cy) ** 2 + (COLS + 0.5 - cx) ** 2 <= r**2


def _ring(cy, cx, r, width=3):
    distance = np.hypot(ROWS + 0.5 - cy, COLS + 0.5 - cx)
    return (distance <= r) & (distance > r - width)


def _box(cy, cx, r, slack=2):
    return [cy - r - slack, cx - r - slack, cy + r + slack, cx + r + slack]


def _iou(a, b):
    return (a & b).sum() / (a | b).sum()


def _crop(mask, box):
    top, left, bottom, right = box
    return mask[top:bottom, left:right]


@pytest.mark.parametrize(
    "background, particle, shape, polarity",
    [
        (200, 80, "disc", "dark"),  # TEM, dense particle
        (200, 80, "ring", "dark"),  # TEM, membrane ring
        (20, 180, "disc", "bright"),  # fluorescence, lumen dye
        (20, 180, "ring", "bright"),  # fluorescence, membrane dye
    ],
)
def test_segment_boxes_every_contrast(background, particle, shape, polarity):
    # Check that dark and bright particles, rings and discs, are found with
    # the polarity detected and IoU > 0.85 against the drawn disc.
    rng = np.random.RandomState(RND_SEED)
    draw = _ring if shape == "ring" else _disc
    image = np.full((120, 160), float(background))
    centres = [(40, 40, 18), (80, 110, 22)]
    for cy, cx, r in centres:
        image[draw(cy, cx, r)] = particle
    image += rng.normal(0, 10, image.shape)
    boxes = [_box(*c) for c in centres]
    result = segment_boxes(image, boxes)
    assert result.polarity.tolist() == [polarity]
    assert not result.quality.fallback.any()
    for (cy, cx, r), box, mask in zip(centres, boxes, result.masks):
        assert _iou(mask, _crop(_disc(cy, cx, r), box)) > 0.85


def test_segment_boxes_polarity_override():
    # Check that forcing the wrong polarity does not find the particle.
    image = np.full((120, 160), 200.0)
    image[_disc(60, 80, 20)] = 60
    box = [_box(60, 80, 20)]
    assert not segment_boxes(image, box, polarity="dark").quality.fallback[0]
    with pytest.warns(UserWarning, match="fell back"):
        assert segment_boxes(image, box, polarity="bright").quality.fallback[0]


@pytest.mark.parametrize("with_neighbour_box", [True, False])
def test_segment_boxes_splits_touching_particles(with_neighbour_box):
    # Check that two touching discs are split, with or without a box on the
    # neighbour, while split_touching=False merges them.
    rng = np.random.RandomState(RND_SEED)
    image = np.full((120, 160), 20.0)
    image[_disc(60, 60, 22) | _disc(60, 103, 20)] = 200
    image += rng.normal(0, 8, image.shape)
    box = _box(60, 60, 22)
    boxes = [box, _box(60, 103, 20)] if with_neighbour_box else [box]
    result = segment_boxes(image, boxes)
    assert not result.quality.fallback.any()
    assert _iou(result.masks[0], _crop(_disc(60, 60, 22), box)) > 0.85
    merged = segment_boxes(image, boxes, split_touching=False)
    assert merged.masks[0].sum() > result.masks[0].sum()


def test_segment_boxes_multichannel_particle_in_one_channel():
    # Check that a particle seen in only one of three channels (and a
    # constant empty channel, as in a two-colour RGB file) is segmented.
    rng = np.random.RandomState(RND_SEED)
    image = rng.normal(30, 6, (120, 160, 3))
    image[..., 2] = 0
    image[_disc(40, 40, 15), 0] += 150  # red only
    image[_ring(80, 110, 20), 1] += 150  # green membrane only
    boxes = [_box(40, 40, 15), _box(80, 110, 20)]
    result = segment_boxes(image, boxes)
    assert not result.quality.fallback.any()
    assert _iou(result.masks[0], _crop(_disc(40, 40, 15), boxes[0])) > 0.85
    assert _iou(result.masks[1], _crop(_disc(80, 110, 20), boxes[1])) > 0.85
    only_blue = segment_boxes(image[..., :2], boxes, channel=0)
    assert not only_blue.quality.fallback[0]


def test_segment_boxes_membrane_and_lumen_in_two_channels():
    # Check that a membrane ring in one channel and a smaller lumen in
    # another make one particle as large as the ring.
    image = np.full((120, 160, 2), 10.0)
    image[_ring(60, 80, 25, width=2), 0] = 120
    image[_disc(60, 80, 21), 1] = 250
    box = _box(60, 80, 25)
    mask = segment_boxes(image, [box]).masks[0]
    assert _iou(mask, _crop(_disc(60, 80, 25), box)) > 0.9


def test_segment_boxes_open_ring_uses_hull():
    # Check that a ring with a gap (nothing to fill) becomes its convex hull.
    image = np.full((120, 160), 200.0)
    ring = _ring(60, 80, 25)
    ring[:, 95:] &= ~(ROWS > 60)[:, :1].repeat(160, axis=1)[:, 95:]  # cut a stretch
    image[ring] = 60
    box = _box(60, 80, 25)
    result = segment_boxes(image, [box])
    assert not result.quality.fallback[0]
    assert _iou(result.masks[0], _crop(_disc(60, 80, 25), box)) > 0.8


def test_segment_boxes_quality_record_on_blank_box():
    # Check that an empty box falls back with a warning and its record says so.
    image = np.random.RandomState(RND_SEED).normal(100, 5, (120, 160))
    with pytest.warns(UserWarning, match=r"1 of 1 particles \(100%\)"):
        result = segment_boxes(image, [[30, 30, 70, 80]])
    assert result.quality.fallback.tolist() == [True]
    assert result.masks[0].shape == (40, 50)


@pytest.mark.parametrize(
    "boxes, match",
    [([[0, 0, 10]], "shape \\(k, 4\\)"), ([[0, 0, 200, 10]], "reaches outside"),
     ([[5, 5, 5, 10]], "is empty"), ([[0.5, 0, 10, 10]], "integer array")],
)
def test_segment_boxes_bad_boxes_raise(boxes, match):
    with pytest.raises(ValueError, match=match):
        segment_boxes(np.zeros((50, 50)), boxes)


def test_segment_boxes_bad_channel_raises():
    with pytest.raises(ValueError, match="channel=3 does not exist: the micrograph has 2"):
        segment_boxes(np.zeros((50, 50, 2)), [[10, 10, 30, 30]], channel=3)


def test_segment_boxes_rays_trace_faint_ring_on_uneven_background():
    # Check that a faint membrane on an illumination ramp, which the
    # threshold misses, is traced along rays from the box centre.
    rows, cols = np.ogrid[:160, :160]
    distance = np.hypot(rows + 0.5 - 80, cols + 0.5 - 80)
    image = np.random.RandomState(RND_SEED).normal(200, 10, (160, 160)) + 0.3 * cols
    image[(distance <= 40) & (distance > 37)] -= 8  # under one noise spread
    box = [38, 38, 122, 122]
    result = segment_boxes(image, [box])
    assert result.quality.method.tolist() == ["rays"]  # the threshold failed
    assert not result.quality.fallback[0]
    truth = (distance <= 40)[38:122, 38:122]
    assert _iou(result.masks[0], truth) > 0.9


def test_segment_boxes_noise_still_falls_back():
    # Check that boxes of pure noise find no particle by either method.
    image = np.random.RandomState(RND_SEED).normal(200, 10, (120, 160))
    boxes = [[33, 53, 87, 107], [5, 5, 40, 45], [70, 100, 115, 150]]
    with pytest.warns(UserWarning, match="3 of 3 particles"):
        result = segment_boxes(image, boxes)
    assert result.quality.method.tolist() == ["fallback"] * 3
    assert result.quality.fallback.all()


def test_segment_boxes_rays_discount_correlated_noise():
    # Check that blotchy (spatially correlated) noise, whose best outlines
    # follow blotches, is not taken for particles by the rays.
    from scipy import ndimage as ndi

    rng = np.random.RandomState(RND_SEED)
    boxes = [[20, 20, 70, 70], [20, 90, 70, 140], [75, 30, 115, 70], [75, 90, 115, 130]]
    methods = []
    for _ in range(4):
        image = ndi.gaussian_filter(rng.normal(200, 10, (120, 160)), 1.5)
        with pytest.warns(UserWarning, match="fell back"):
            methods.extend(segment_boxes(image, boxes).quality.method)
    assert "rays" not in methods


def test_ray_masks_traces_several_particles_at_once():
    # Check that the tracing, vectorised over particles, outlines a disc and
    # an ellipse off the box centre, and finds no evidence in noise.
    from sklipo.datasets._ray_masks import MIN_EVIDENCE, _ray_masks

    rng = np.random.RandomState(RND_SEED)
    disc = _disc(60, 50, 20)
    ellipse = ((ROWS + 0.5 - 62) / 18) ** 2 + ((COLS + 0.5 - 118) / 28) ** 2 <= 1
    plane = 3.0 * (disc | ellipse) + rng.normal(0, 1, disc.shape)
    noise = rng.normal(0, 1, disc.shape)
    outside = np.ones(disc.shape, dtype=bool)
    boxes = [np.array(_box(60, 50, 20)), np.array([42, 88, 82, 148])]
    planes = [(plane, (0, 0), outside, box) for box in boxes]
    planes.append((noise, (0, 0), outside, boxes[0]))
    masks, evidence, closed = _ray_masks(planes)
    assert _iou(masks[0], _crop(disc, boxes[0])) > 0.9
    assert _iou(masks[1], _crop(ellipse, boxes[1])) > 0.9
    assert (evidence[:2] > MIN_EVIDENCE).all() and closed[:2].all()
    assert evidence[2] < MIN_EVIDENCE
