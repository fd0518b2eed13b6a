"""Eyelids that close over the eye when an edit brings the upper lid down (eyeBlink, eyeSquint).

The dense warp moves the lid-margin vertices down and collapses the triangles that fill the eye opening,
which by itself squeezes the eye (iris and all) into the smaller opening and stretches the thin band of
lashes above it over the lid. Real lids slide over an eyeball that stays where it is. So, per eye:

* **Eyeball stays**: inside the target opening, pixels come from the photo at the same place relative to the
  eye corners (the eyeball does not move with the lid), wherever that place was inside the open eye.
* **Lid skin covers**: between the target lid margin and the top of the photo's lash line, where the lid came
  down, the pixels are lid skin: the photo's own skin just above the lashes (low-passed, so no lash or crease
  structure is smeared down), shaded slightly darker toward the margin where the lid curves away, with the
  photo's grain.
* **Lash line**: a soft dark line along the target margin, in the photo's darkest lash colour, thicker toward
  the outer corner, as strong as the closure.

When an edit raises an upper lid (eyeWide) the warp alone stretches the whole eye, iris included: the eye
looks bigger, not wider open. So where the target opening reaches beyond the photo's, the eyeball again stays
in place and what the lid uncovers is painted: the iris continues as the disc MediaPipe's iris landmarks give
(its top is usually under the lid), drawn, with the photo's own iris's texture carried into it (mirrored or turned
from the part the photo shows), the rest is sclera in the photo's own white, shaded in a band under the lid above,
greyer toward the corners and just outside the iris (the limbus), with the texture of the white the photo shows
beside its iris, and as soft as the photo (:func:`facecraft.synth.photo_blur.photo_blur`).

How much of a raised lid MediaPipe reads is set by its landmark detector, not by this painting: its upper lid stops
at the top of the iris however much white the edit shows above it (measured: the comment at :data:`EYES`).

Nothing changes for an eye whose target opening matches its source opening.
"""

from __future__ import annotations

import logging

import cv2
import numpy as np

from facecraft.rigs.default_rig import EYE_L_LOWER, EYE_L_UPPER, EYE_R_LOWER, EYE_R_UPPER
from facecraft.rigs.errors import ParameterError

from .corner_frame import ContourFrame
from .mouth import _luma, _smoothstep, grain, look_colours, repaint_inputs
from .photo_blur import PAINT_SHARP, softening
from .photo_look import PhotoLook
from .warp import WarpResult

logger = logging.getLogger(__name__)

# How much of a raised lid MediaPipe reads is set by its landmark detector, not by this painting: its upper lid stops at
# the top of the iris however much white the edit shows above it, while its blendshape model reads ``eyeWide`` only
# from a lid above the iris. Lid middle (386) from the iris centre in iris radii, eyeWideLeft at 0.8 on 24 FRLL
# calibration photos: photo -0.68, target -1.23, detected -0.94 (eyeWide limit 2.0: target -1.74, detected -0.99; an
# unshaded pure white: -1.05); 20 UTKFace crops -0.61 / -1.18 / -0.84. Source landmarks with the lid moved to the iris
# top read eyeWide +0.03, 0.25 radii above it +0.2; the edits' detected landmarks (36 photos) with the target upper lid
# put in read +0.38 instead of +0.05. Painting cues tried against it moved the mean rise on the 72 calibration photos by
# +0.001 (no lid shadow) to -0.006 (a smaller, 0.9, iris): the lid's margin band carried up with it, a lash line along
# the raised margin, the photo's own iris mirrored into the uncovered top; a pure white or no limbal ring left the
# detected lid where it was (-1.05, -0.98 at limit 2.0).
EYES = ((EYE_L_UPPER, EYE_L_LOWER), (EYE_R_UPPER, EYE_R_LOWER))
_LASH_BAND = (0.06, 0.12, 0.25)  # eye widths: least, default and most lash/liner band above the upper contour
_MIN_CLOSURE_PX = 0.5
#: The edge of the white a raised upper lid uncovers ramps over this many pixels (a smoothstep across the margin): at
#: 1 px a sharp photo's white met the lash band the warp carries up along a line of whole-pixel stairs (FRLL 032 in
#: surprise). On 10 FRLL calibration neutrals and 6 UTKFace tuning crops at eyeWide 0.8, the edge's column-to-column
#: roughness (RMS second difference of its 50% crossing down each image column, px) was 0.27 at 1 px, 0.19 at 2, 3
#: and 4.2 (the photos' own upper margins 0.30, lashes and all).
_RAISED_EDGE_PX = 2.0
#: A dark band above the upper contour, thicker than the least lash band, that lightens toward the brow with no step as
#: sharp as a painted edge (its steepest rise over ``[0]`` eye widths, at least a pixel, under ``[1]`` of its whole
#: rise) is the socket's shade (:func:`_socket_shade`), not liner or eye shadow: the closed lid's colours
#: (:func:`_lid_colours`) are read from just above the least lash band, in that shade, instead of from the lit skin
#: above the band. Read above it (the brow bone), the closed lid of a deep-set eye was a pale oval slab, the shade the
#: warp brings down left as a dark outline around its top (UTKFace tuning crop 61_1_3, eyeBlink 1). A crisp band of
#: liner or eye shadow is still kept off the closed lid. (Covering only the least lash band over the shade, so the
#: warp's shade stays on the lid, drew the cover's top as an arc across it: the astronaut's lid enlarged 6x.)
_SOCKET = (0.03, 0.5)
#: A closing lid's skin is filled in from the skin around it (OpenCV inpainting), which carried the crease's and the
#: socket's shadow, the corners' lashes and the lower lid's dark margin into its middle: on deep-set or dark-lidded
#: FRLL calibration eyes (006, 014 neutral) a dark smudge sat on the closed lid like an iris seen through it, and
#: 001's whole lid came out darker than her open lid. So the fill no longer reads below the lid's margin (the photo
#: there is replaced by the lid's own colours, :func:`_lid_colours`, for the inpainting only), and away from its edges
#: (over ``_LID_PULL_REACH`` of the eye's height) it is pulled this far toward them. Pulled within 0.35 of the
#: height toward one colour for the whole lid, the closed lid was a flat oval with an edge, lighter or darker than
#: the skin around it (zoomed blinks at 0.8 on six UTKFace tuning crops, FRLL calibration 001, 006, 014, smiling
#: 010 and the astronaut; a pasted disc on all of them). Over the whole height the fill shades into the socket's
#: shadow from the top as a real lid does; MediaPipe's eyeBlink read the same (largest rise, UTKFace tuning crops
#: 60 / FRLL calibration 72, L / R: .73 / .78 / .81 / .92 -> .75 / .83 / .78 / .90).
_LID_PULL = 0.6
_LID_PULL_REACH = 1.0
#: A closing lid's cover fades in over this share of the eye's width at each end of the eye: the first for a lid
#: that shuts, growing to the second as the lid drops less of the opening (see :func:`_close_one`).
_LID_ENDS = (0.04, 0.2)
#: The closing lid's top edge (where its skin meets the photo's above the old lash line) fades over this share of the
#: eye's height, at least 3 px. Over 3 px alone, a phone photo's closed lid (eye 220 px wide, 3072 px photo) was a flat
#: patch with a hard top edge.
_LID_TOP_SOFT = 0.25
#: The photo's own skin texture carried onto the closed lid (:func:`_lid_texture`): structure finer than this share of
#: the eye's width (Gaussian sigma) of the lid skin above the lash line, mirrored down over the lid, at most this many
#: grey levels either way; the added grain is scaled by ``[2]`` where it is carried. With the grain alone a closed lid
#: on an enlarged photo (the grain a 1 px blur measures is nearly nil there) was smooth as plastic beside the skin.
_LID_DETAIL = (0.015, 8.0, 0.5)
#: Widest lid-skin fill radius (pixels, 0.15 of the eye's width) made at full size (:func:`_membrane_fill`): eyes up to
#: about 107 px wide.
_FILL_EXACT_RADIUS = 16.0
#: The lid's colours (:func:`_lid_colours`), per column across the eye: the mean of the lit half (``_LID_LIT``
#: percentile up) of the skin from just above the lashes to ``_LID_BAND`` eye widths higher, smoothed across the
#: columns. A closed lid is the skin above its lashes unfolded, and it keeps that skin's light: the shaded side of a
#: side-lit eye stays shaded. One colour for the whole lid (the lit quarter of the skin up to 0.4 eye widths, taken
#: because the median just above the lashes -- liner, lash shadow, the fold of a hooded lid -- painted grey patches on
#: 5 of 13 calibration eyes) was lighter than a shaded lid and darker than a lit one; the lit half of a short band
#: keeps clear of the liner and the crease (the same zoomed blinks: 75th percentile and a 0.3 band looked alike).
_LID_LIT = 50
_LID_BAND = 0.2
_MARGIN_PX = 1.5  # the photo's lid margin (lashes, lid shadow) kept out of a widened opening ...
#: ... and for the upper lid this share of the eye's height, if more: on a large photo its liner and shadow
#: on the eyeball are several pixels thick, and kept 1.5 px they stood across the iris as a second lid line
#: below the raised one (portraits at 1,000 px: an eye within an eye; MediaPipe kept the lid on that line).
_MARGIN_SHARE = 0.25
#: The uncovered sclera's colour: the median of the opening's brightest pixels outside the iris (above this
#: percentile), at least ``_SCLERA_FLOOR`` times as bright as the cheek skin. The median of the upper 40% of a
#: small or shaded opening is mostly lash shadow, and the grey it painted looked like lid skin, not sclera
#: (FRLL calibration people 034, 064: 140-150 grey levels against a white of about 200). The 85th percentile, shaded
#: by the lid (``_LID_SHADOW`` 0.35), still painted a white near the lid skin's grey, and MediaPipe put the raised lid
#: on the iris: its landmarks followed 1.7 of a 3.9 px rise (pure white: 2.1 px). 72 FRLL calibration photos, eyeWide at
#: 0.8 (rise read largest / mean rise, left and right) with the 95th percentile and a 0.1 shadow: .194 / .292 and .031 /
#: .039 -> .222 / .292 and .035 / .042; fear read as fear .472 / .500 -> .625 / .528, surprise .972 / .958 -> .986 /
#: .986 (mini-Xception / NetworkV2); the 99th percentile lit shaded UTKFace eyes up as white discs.
_SCLERA_PERCENTILE = 95
#: Where the photo shows at least ``_SCLERA_SEEN`` pixels of its white beside the iris (:func:`_beside_iris`; none
#: in a slit lower than ``_SLIT[1]`` iris diameters), the white takes their tint: the median colour of their lit half
#: (``_SCLERA_LIT`` percentile of luma up), capped at ``_SEEN_CHROMA`` of its luma instead of ``_SCLERA_CHROMA``, at
#: the brightest twentieth's level (or the lit half's, if brighter). Capped near grey, the white read blue-grey on warm
#: UTKFace crops and lavender on dark skin (FRLL calibration person 006). Tuning bench (100 UTKFace crops, 72 FRLL
#: calibration photos), eyeWide L/R at 0.8 read largest in UTKFace crops 22 / 35 -> 19 / 32 (0.25: 17 / 30), the rest
#: within a photo but smiling calibration eyeWideRight 7 -> 5, fear and surprise within a photo. The level stays: the
#: photo's own (the lit half's median, at least 0.9 of the brightest twentieth's) lost eyeWide on 6 / 6 of the UTKFace
#: crops and fear on 5 (facecraft judge); the median of the upper three quarters, which looked like 006's own grey
#: white (148-160 grey levels against 192), 6 / 4 and 7 (mini-Xception), calibration neutrals eyeWide 4 / 2 and fear
#: 3-4 of 36; shaded across the eye as the white beside the iris (:func:`_sclera_gain` fed from it) fear 9 of 36
#: (mini-Xception). The judges and MediaPipe read a dimmer white as a less open eye.
_SCLERA_SEEN = 12
_SCLERA_LIT = 50
_SEEN_CHROMA = 0.15
_SCLERA_FLOOR = 1.0
#: ... the skin being the darker of the cheeks and the lid skin this many eye widths above the upper contour (above
#: the widest lash band, ``_LASH_BAND``): behind tinted glasses or in a brow's shade the cheek's floor lit the painted
#: white up brighter than the photo's own (15 of 24 UTKFace crops floored, one in shade from 72 to 126 grey levels).
_LID_SKIN = 0.4
#: ... and nearly colourless: no channel further than this share of its luma from it. The brightest pixels of a
#: squinting eye's slit are lid skin, and the sclera painted from them was orange or pink (UTKFace broad smilers
#: edited to surprise).
_SCLERA_CHROMA = 0.1
#: ... and in a slit (lower than ``_SLIT[1]`` iris diameters), where what it shows is lid skin and lash shadow, this
#: share: capped at 0.1 the white of a squinting older man's eye widened to surprise was the lid skin's pink-brown grey
#: (UTKFace tuning crop 73_0_0). Its level stays the skin's (the white beside the iris of 215 open tuning eyes, 60
#: UTKFace crops and the FRLL calibration photos, is 0.93 of the cheek's luma, median; 0.79-1.05 the middle half).
_SLIT_CHROMA = 0.04
#: ... each cap measured from the cheek's tint at this share of its chroma, not from a neutral grey: the white takes the
#: photo's colour cast as the skin does (the lit white beside the iris of 151 open tuning eyes, 40 UTKFace crops from
#: 500 and the 36 FRLL calibration neutrals, has ``s`` times the cheek's chroma, ``W / luma(W) - 1 = s (S / luma(S) -
#: 1)`` to within 0.016: ``s`` 0.46 median, UTKFace 0.68, FRLL 0.33). Capped around grey, the white a raised lid
#: uncovered in a warm photo was a cold blue-grey beside the photo's own cream white (UTKFace tuning crop 68_1_0).
_WHITE_SKIN_TINT = 0.35
#: A slit keeps less of the photo's eyeball: the upper margin's share grows to ``_SQUINT_SHARE`` as the opening's
#: height falls from ``_SQUINT_OPENING[1]`` to ``_SQUINT_OPENING[0]`` iris diameters (the slit's lash shadows
#: stood across the painted iris as a ring). With the colour cap, chosen on the 48 UTKFace broad smilers
#: (see :mod:`facecraft.synth.editor`'s corner drag), surprise:1.0 read as surprise (mini-Xception / NetworkV2)
#: 0.90 / 0.94 -> 0.92 / 0.98; the other 48 0.81 / 0.79 -> 0.79 / 0.79; the 36 smiling FRLL calibration photos
#: 0.97 / 0.97 either way, their fear 0.56 / 0.44 -> 0.58 / 0.44. A share of 0.4-0.5 for every eye also lost the
#: iris's catchlights on sharp, open eyes.
_SQUINT_SHARE = 0.5
_SQUINT_OPENING = (0.5, 0.8)
#: Where a lower lid falls, the share of the opening's height above its old margin that is not kept as the eyeball.
_LOWER_SHARE = 0.2
#: Darkening of the painted white along the lower lid's edge (the rim shades it; one flat white read as painted). With
#: the white shaded across the eye as the photo's (:func:`_sclera_gain`), on 72 FRLL calibration photos eyeWide L/R at
#: 0.8 .250 / .333 -> .264 / .333, fear .611 / .486 -> .625 / .472 (mini-Xception / NetworkV2), the rest unchanged.
_EDGE_SHADE = 0.08
#: An eye painted behind glasses (:func:`facecraft.eval.eyewear.wears_glasses`) is softened by this much more (Gaussian
#: sigma, eye widths): the photo's blur is measured at edges the frame's sharp rims dominate, and at that the paint
#: stood crisp and flat on a hazy lens like a sticker. (The lens's veil over the paint as well, 0.1-0.3 of it, read as
#: less surprise and fear on the tuning crops with glasses; the softening alone changed no reading.)
_LENS_SOFT = 0.02
#: The raised lid's shadow on the uncovered eyeball: its darkening at the margin and its reach under it (Gaussian
#: sigma, eye widths). Spread thin (0.1 fading over 0.12 eye widths, see ``_SCLERA_PERCENTILE``) it left the white flat
#: and bright up to the lid, a ring cut out around the iris (FRLL calibration 001, UTKFace tuning crops at eyeWide 0.8);
#: a real lid shades a band of the eyeball just under its margin, and the white below it keeps its level.
_LID_SHADOW = 0.25
_LID_SHADOW_REACH = 0.05
#: Eyeball radius in iris radii: a 12 mm eyeball, an iris of 5.9 mm radius (MediaPipe's iris landmarks give it). The
#: eyeball turns about its centre (:mod:`facecraft.synth.gaze`) and its white shades as a sphere's (below).
EYEBALL_RADII = 2.0
#: The eyeball is a sphere (:data:`EYEBALL_RADII` iris radii): its white turns away from the light
#: above and below the iris, darker by ``k (1 - cos)`` of the angle it turns (as ``k sin^2 / 2``: the exact cosine fell
#: to black at the sphere's rim, an edge sharper than a blurred photo's at an extreme raise), ``k`` this much.
_SPHERE_SHADE = 0.6
#: The white's grey just outside the iris (the limbus shading into the sclera): darkening at the iris's rim and its
#: reach (share of the iris radius, Gaussian).
_LIMBAL = (0.12, 0.25)
#: The painted white's grey toward the eye's corners beyond the curve above (the eyeball turns away, the corners are
#: in the lids' shade): the darkening at a corner, fading as the cube of one less the sine across the eye (0.1 of the
#: width in: 0.33 of it). The white ran bright to the corners of a widened eye, greyer there in the photo.
_CORNER_SHADE = 0.25
#: The photo's own white's texture carried into the uncovered white (:func:`_white_texture`): structure finer than
#: this share of the eye's width (Gaussian sigma), at most this many grey levels either way (a stray lash), from a
#: stretch of white beside the iris at least this share of its radius wide (whole from twice that): mirrored back and
#: forth from a few pixels, the white came out striped (a toddler's small UTKFace tuning crop, 3_1_0).
_WHITE_DETAIL = (0.05, 12.0, 0.3)
#: The painted white's grain, a share of the photo's (:func:`facecraft.synth.mouth.grain`), added after the paint is
#: softened to the photo's blur (before it, the grain was smoothed away on soft photos). Tuning bench (100 UTKFace
#: crops, 72 FRLL calibration photos), eyeWide L/R at 0.8 read largest in photos, and fear / surprise read: 0.5 moved
#: eyeWide by +1 / -1 photo and fear by 0..+2; 1.0 lost 2 smiling calibration photos' eyeWideRight. The photo's own
#: upper margin band (lashes, lid shadow) carried up under a raised lid, even 1.5 px deep, read fear on 4 fewer of the
#: 36 neutral calibration photos (mini-Xception) and eyeWideLeft on 2 fewer: MediaPipe and the judges read the white.
_WHITE_GRAIN = 0.5
#: The painted iris (:func:`_paint_iris`): pupil radius and darkness (shares of the iris radius and colour), the
#: catchlight's strength and the rim's softness (share of the radius, at least a pixel). Chosen on the 48 UTKFace broad
#: smilers (editor's corner drag), fear:1.0 read as fear by mini-Xception / NetworkV2 (mean probability): flat disc
#: 0.31 / 0.48 (0.26 / 0.46), pupil at 0.3 of the iris colour 0.35 / 0.40 (0.26 / 0.44), at 0.6 0.33 / 0.46
#: (0.25 / 0.47); surprise 0.94 / 0.98 with either, 0.92 / 0.98 with no pupil.
#: The pupil at most ``_PUPIL_LUMA`` grey levels (a light iris's pupil at 0.6 of its colour was grey), ``_PUPIL`` of
#: the radius as in the photos' own eyes (FRLL calibration blue eyes: the luma steps from about 40 to 70 at 0.3-0.45
#: of MediaPipe's radius; at 0.4 the drawn pupil filled the painted iris of a narrowed eye like a cartoon's).
_PUPIL = 0.33
_PUPIL_DARK = 0.6
_PUPIL_LUMA = 35.0
_GLINT = 0.6
_IRIS_EDGE = 0.12
#: ... its rim at least this many pixels soft (10 to 90% over 1.5 px: a sharp photo's iris edge fades over 1-1.5 px;
#: at 1 px soft the drawn one read as a sticker on the bench portraits).
_IRIS_EDGE_PX = 2.5
#: Its shading, as a photo's iris is (:func:`_paint_iris`): the limbal ring ``_LIMBUS[0]`` darker at the rim over its
#: outer ``_LIMBUS[1]`` of the radius (was 0.35 over the outer 0.3: a crisp dark rim round a flat disc); the middle zone
#: (``_IRIS_ZONE`` of the radius, gaussian width ``[1]``) ``_IRIS_ZONE_GAIN`` lighter and as much more saturated; the
#: collarette (``_COLLARETTE`` radius, width) ``_COLLARETTE_DARK`` darker; the upper lid's shadow on its top, from
#: ``_IRIS_LID_SHADOW[1]`` of the radius above its centre, ``_IRIS_LID_SHADOW[0]`` darker at its top (on top of the
#: white's ``_LID_SHADOW`` band). Chosen by eye on 4x crops; MediaPipe, which reads a raised lid by the iris's dark top,
#: kept it: tuning photos (20 UTKFace 500+, 20 FRLL calibration), surprise:1.0 / fear:1.0 / eyeWide 0.8, before vs
#: after in one run: eyeWide L/R read largest 11/8 -> 12/10 of 40 (none lost), mean rise .056/.053 -> .053/.053, fear
#: 16/24 -> 17/25, surprise 39/39 -> 39/39 (mini-Xception / NetworkV2).
_LIMBUS = (0.35, 0.15)
_IRIS_ZONE = (0.65, 0.16)
_IRIS_ZONE_GAIN = 0.1
_COLLARETTE = (0.42, 0.06)
_COLLARETTE_DARK = 0.12
_IRIS_LID_SHADOW = (0.3, 0.35)
#: The photo's iris colour (:func:`_iris_colour`): the lit half (``_IRIS_LIT`` percentile of luma up) of its ring from
#: ``_IRIS_RING[0]`` to ``_IRIS_RING[1]`` of the radius (no pupil, no limbus), below the upper margin's band and
#: ``_IRIS_LOWER`` of the opening's height above the lower contour, no catchlight (``_IRIS_GLINT`` of the sclera's
#: luma) and no skin (``_IRIS_SKIN`` of chromaticity, from ``_IRIS_SKIN_LUMA`` of the cheek's luma); from
#: ``_IRIS_MIN_PX`` pixels. The median of the whole disc in the opening, in a narrowed eye mostly pupil, the upper lid's
#: lash shadow and lower-lid skin, read blue and grey eyes as a dark purple-grey and painted them dark brown or black
#: (older smiling men widened to surprise; FRLL calibration smiling 139, UTKFace tuning crops 52_0_0, 73_0_0).
_IRIS_RING = (0.45, 0.95)
_IRIS_LOWER = 0.1
_IRIS_LIT = 50
_IRIS_GLINT = 0.85
_IRIS_SKIN = 0.12
_IRIS_SKIN_LUMA = 0.6
_IRIS_MIN_PX = 6
#: Its own texture (:func:`_own_iris`) is read from the pixels of the opening inside its disc at least this share of
#: its colour's luma (darker: a lash's shadow), skin and catchlights left out (:func:`_iris_shown`), as well as from
#: where the photo's eyeball is clean of the margins: a slit's clean band is empty, and its iris was drawn flat.
_IRIS_SHADOW = 0.6
_IRIS_HUE = 0.25
#: ... carried at most this share of its luma either way.
_IRIS_TEXTURE = 0.25
#: The photo's own iris (:func:`_own_iris`) is carried into the uncovered part when it shows at least this share of
#: the distances from the iris centre to its rim (clean of the margins), else an iris is drawn.
_IRIS_SEEN = 0.6
#: Its own radial colour profile (pupil, limbus, size) stays out: the drawn ring and pupil are kept, the texture alone
#: is added. With the profile in place of the drawn one (texture out to 0.9 of the radius), on 72 FRLL calibration
#: photos eyeWide L/R at 0.8 read largest .444 / .500 -> .306 / .417 neutral, .194 / .194 -> .167 / .111 smiling, mean
#: rise .058 / .063 -> .051 / .054 neutral (MediaPipe reads a raised lid by the drawn iris's dark top).
#: ... its texture whole out to this share of its radius, none from the second on: the drawn limbus stays. Out to
#: (0.6, 0.9) eyeWideRight read largest on the 72 FRLL calibration photos .347 -> .306 (left .319 -> .333, mean rises
#: unchanged); (0.45, 0.7) .319 / .333, (0.3, 0.55) .333 / .333.
_IRIS_DETAIL = (0.45, 0.7)
#: A source opening below ``_SLIT[1]`` iris diameters keeps less of itself as the eyeball, none below ``_SLIT[0]``:
#: a nearly shut eye shows lashes, and kept in place they crossed the painted iris as a dark bar.
_SLIT = (0.35, 0.65)
#: The photo's eyeball is kept only where its clean white (between the two margin bands) is thick: none below half
#: of ``_STRIP_MIN`` upper margin bands of it, whole above one and a half. Kept however thin, it stood out of the
#: painted white as a grey-edged wedge from the iris toward the corners on most widened FRLL calibration eyes.
_STRIP_MIN = 1.0
#: The painted white shades across the eye as the photo's kept white does (:func:`_sclera_gain`): columns (shares of
#: the eye's width), the least kept pixels a column needs, the darkest column's share of the brightest, how far
#: outside the iris (share of its radius) and how whole (``in_src``) the photo's white is read.
_GAIN_BINS = 10
_GAIN_MIN_PX = 3
_GAIN_LEAST = 0.6
_GAIN_IRIS = 1.2
_GAIN_CORE = 0.99
#: A pixel of the photo's visible iris (inner 0.8 of its radius, below the margin's inset) at least this share of the
#: sclera's luma is its catchlight: kept in place (the margin band under a raised lid was painted over, catchlight and
#: all, and a soft painted one put beside it) and then none painted. On 72 FRLL calibration photos eyeWide L/R at 0.8
#: .264 / .333 -> .250 / .319, fear .625 / .472 -> .583 / .500 (mini-Xception / NetworkV2); the whole iris radius and
#: up to the contour cost eyeWide .250 / .278. Read from the iris's shade to the white's: against the white alone a
#: dim, blurred iris (UTKFace crops in shade) passed for a catchlight and none was painted (calibration unchanged).
_OWN_GLINT = 0.75
#: A catchlight's soft halo, in iris radii beyond its bright core: it goes with the catchlight, not with the iris.
_GLINT_HALO = 0.15
#: ... and nearly colourless: no channel further than this share of its luma from it.
_GLINT_CHROMA = 0.15
#: The painted eyeball's own softness (:data:`~facecraft.synth.photo_blur.PAINT_SHARP`): on a blurrier photo the paint
#: and the opening's edge are blurred by the rest. Painted sharp into UTKFace crops (200 px upscaled to 512, blur
#: 1.5-5.6 px, median 3.1) a widened eye stood out as a crisp sticker on a soft face.
_PAINT_SHARP = PAINT_SHARP
#: MediaPipe's refined iris landmarks (478-point layout): centre then four points on the rim, per eye.
IRIS_POINTS = ((468, 469, 470, 471, 472), (473, 474, 475, 476, 477))


def eye_frame(points: np.ndarray, upper_ids, lower_ids) -> ContourFrame:
    """The frame and lid profiles of one eye from ``(468, 2)`` pixel positions (rows inner -> outer corner;
    u from the inner corner to the outer one, v down the face)."""
    return ContourFrame.of_rows(points, upper_ids, lower_ids, v_down=True)


def eye_polygon(points: np.ndarray, upper_ids, lower_ids) -> np.ndarray:
    """Pixel polygon of one eye opening (upper contour, then the lower contour back)."""
    return np.concatenate([points[list(upper_ids)], points[list(lower_ids[-2:0:-1])]])


def close_lids(
    warped, image, src_px, dst_px, *, iris=None, look: PhotoLook | None = None, kept: np.ndarray | None = None
) -> WarpResult:
    """Cover the eyeball with lid skin where the edit lowers an upper lid, keeping the eyeball in place; paint
    the eyeball the lid uncovers where the edit raises it.

    Parameters
    ----------
    warped : WarpResult or array (H, W, 3)
        The warp of ``image`` (:func:`facecraft.synth.warp.warp_face`).
    image : array (H, W, 3)
        The unedited photo (eyeball, lid skin and lash colours come from it).
    src_px, dst_px : array (468, 2)
        Source and target pixel positions of the canonical mesh vertices.
    iris : array (478, 2+), optional
        The photo's landmarks with MediaPipe's refined iris points (:data:`IRIS_POINTS`): the iris a raised
        lid uncovers continues as that disc; without them the uncovered eyeball is painted as sclera only.
    look : PhotoLook, optional
        The photo's measurements around this face (blur, lash bands, whites, skin), when the caller keeps them
        across edits.
    kept : array (H, W), optional
        Where (0..1) ``image`` already shows the eyeball as it is to be seen: the eyes turned by
        :func:`facecraft.synth.gaze.turn_eyes` (its ``mask``; ``iris`` its moved landmarks). What a raised lid uncovers
        there stays as that paint (its own iris, catchlight and white), and an iris painted beyond it is the turned
        iris's own colours (its radial profile), not a drawn one.

    Returns
    -------
    WarpResult
        The photo with repainted eyes; the mask joins the warp's with the repainted region.
    """
    out, mask, img, src, dst = repaint_inputs(warped, image, src_px, dst_px)
    discs = _iris_discs(iris)
    out, mask = out.copy(), mask.copy()
    look = PhotoLook.of(look, img, src)
    soften = softening(look.blur, _PAINT_SHARP)
    if kept is not None and np.asarray(kept).shape != img.shape[:2]:
        raise ParameterError(f"kept: expected an (H, W) mask of the photo's {img.shape[:2]}, got {np.shape(kept)}")
    kept = None if kept is None or not np.any(kept) else np.asarray(kept, np.float32)
    for (upper_ids, lower_ids), disc in zip(EYES, discs, strict=True):
        _close_one(out, mask, look, dst, upper_ids, lower_ids)
        _open_one(out, mask, look, dst, upper_ids, lower_ids, disc, blur=soften, kept=kept)
    return WarpResult(out, mask)


def _iris_discs(iris) -> list[tuple[np.ndarray, float] | None]:
    """(centre, radius) in pixels of each eye's iris (in :data:`EYES` order), or None per eye."""
    if iris is None:
        return [None, None]
    pts = np.asarray(iris, np.float64)
    if pts.ndim != 2 or pts.shape[0] != 478 or pts.shape[1] < 2 or not np.isfinite(pts[:, :2]).all():
        raise ParameterError(f"iris: expected the (478, 2|3) landmarks with the iris points, got {pts.shape}")
    discs = [(pts[ids[0], :2], float(np.linalg.norm(pts[list(ids[1:]), :2] - pts[ids[0], :2], axis=1).mean()))
             for ids in IRIS_POINTS]  # fmt: skip
    out = []
    for upper_ids, lower_ids in EYES:
        centre = pts[list(upper_ids) + list(lower_ids), :2].mean(0)
        out.append(min(discs, key=lambda d: float(np.hypot(*(d[0] - centre)))))
    return out


def _open_one(out, mask, look: PhotoLook, dst, upper_ids, lower_ids, disc, *, blur: float = 0.0, kept=None) -> None:
    """Paint the eyeball a raised (or lowered lower) lid uncovers; the photo's eyeball stays in place. ``blur``: the
    Gaussian sigma (pixels) that softens the paint and the opening's edge to the photo's own blur; ``kept``: where
    the photo is already the turned eyeball's paint (:func:`close_lids`)."""
    img, src = look.image, look.src
    fs, fd = _photo_eye_frame(look, upper_ids, lower_ids), eye_frame(dst, upper_ids, lower_ids)
    grid = np.linspace(0.0, 1.0, 33)
    height = float(fs.gap(grid).max())
    ratio = fd.width / fs.width
    up_s_g, lo_s_g = fs.profile(grid * fs.width)
    up_d_g, lo_d_g = fd.profile(grid * fd.width)
    rise = np.maximum(up_s_g * ratio - up_d_g, lo_d_g - lo_s_g * ratio)  # margins moving apart
    if rise.max() < _MIN_CLOSURE_PX or height < 1.0:
        return
    if look.wears_glasses:
        blur = float(np.hypot(blur, _LENS_SOFT * fd.width))  # seen through a lens, softer than its frame
    h, w = img.shape[:2]
    pts = np.concatenate([eye_polygon(src, upper_ids, lower_ids), eye_polygon(dst, upper_ids, lower_ids)])
    pad = int(np.ceil(3.0 * blur))  # room for the softened edge
    x0, y0 = np.floor(pts.min(0)).astype(int) - 2 - pad
    x1, y1 = np.ceil(pts.max(0)).astype(int) + 3 + pad
    x0, y0, x1, y1 = max(x0, 0), max(y0, 0), min(x1, w), min(y1, h)
    if x1 <= x0 or y1 <= y0:
        return
    gx, gy = np.meshgrid(np.arange(x0, x1, dtype=np.float64), np.arange(y0, y1, dtype=np.float64))
    ud, vd = fd.coords(gx, gy)
    a_d = ud / fd.width
    up_d, lo_d = fd.profile(ud)
    within = _smoothstep(a_d / 0.04) * _smoothstep((1.0 - a_d) / 0.04)
    open_d = _smoothstep((vd - up_d) / _RAISED_EDGE_PX + 0.5) * _smoothstep(lo_d - vd + 0.5) * within
    if open_d.max() <= 0:
        return
    # The eyeball in place: the photo at the same place relative to the corners, away from its old margins.
    eu, ev = a_d * fs.width, vd / ratio
    inset = min(_MARGIN_PX, 0.15 * height)
    share = _MARGIN_SHARE
    if disc is not None and _SQUINT_SHARE > _MARGIN_SHARE:  # a slit: its lash shadows fill most of what it shows
        share = float(np.interp(height / max(2.0 * disc[1], 1e-6), _SQUINT_OPENING, (_SQUINT_SHARE, _MARGIN_SHARE)))
    top = max(inset, share * height)  # the upper margin's liner and shadow are thicker
    # What a raised lid uncovers is painted in proportion to how far it rose past the photo's margin band (``top``;
    # ``inset`` for the lower lid), per column (the band thins toward the corners): a margin lifted by less than the
    # band keeps most of its own liner (the warp carries it up). Anger (AU5 with AU7, brows down) lifts the upper lid
    # of a narrowed eye 1-1.5 px while the lower lid rises 5 px; the whole 3 px band painted as sclera and a flat
    # iris erased the lash line and left a dark box in a pale slit (FRLL calibration person 001).
    band = np.clip(share * (lo_s_g - up_s_g) * ratio, 0.5, top)
    up_rise, lo_fall = up_s_g * ratio - up_d_g, lo_d_g - lo_s_g * ratio
    moved = np.maximum(_smoothstep(up_rise / band), _smoothstep(lo_fall / inset))
    whole_open, open_d = open_d, open_d * np.interp(a_d, grid, moved)
    # A lower lid that falls uncovers the eyeball below its old margin: that margin's lash shadow stays out as well
    # (kept, it lay across the iris as a dark bar above the painted white).
    fell = np.interp(a_d, grid, _smoothstep(lo_fall / inset))  # per column, 1 where the lower lid fell past its band
    bottom = 0.5 * inset + fell * max(_LOWER_SHARE * height - 0.5 * inset, 0.0)
    bottom_ramp = np.maximum(bottom, inset)
    slit = 1.0
    if disc is not None:  # a nearly shut eye's slit holds only lashes: nothing of it is kept as the eyeball
        slit = _smoothstep((height / max(2.0 * disc[1], 1e-6) - _SLIT[0]) / (_SLIT[1] - _SLIT[0]))

    def clean(u: np.ndarray, v: np.ndarray) -> np.ndarray:
        """How wholly the photo shows its eyeball at frame point ``(u, v)``: away from both old margins' shadows,
        and only where the clean band is thick (toward the corners it thins to the two margins' shadows meeting,
        and kept it stood out of the painted white as a grey-edged wedge from the iris to the outer corner)."""
        pu, pl = fs.profile(u)
        c = _smoothstep((v - pu - top) / top + 0.5) * _smoothstep((pl - v - bottom) / bottom_ramp + 0.5) * slit
        return c * _smoothstep((pl - pu - bottom - top) / (_STRIP_MIN * top) - 0.5)

    eu_up, eu_lo = fs.profile(eu)
    in_src = clean(eu, ev)
    mx, my = fs.to_image(eu, ev)
    eyeball = _sample(img, mx, my)
    turned, own_iris, painted, lit = False, None, None, None
    if kept is not None:  # a turned eyeball's own iris, catchlight and white, in its lid margin bands too
        painted = np.clip(_sample(kept, mx, my), 0.0, 1.0)
        turned = bool(painted.max() > 0.0)
        in_src = np.maximum(in_src, painted)
    sclera, iris_rgb = _look_eye_colours(look, fs, upper_ids[0], disc)
    if disc is not None and iris_rgb is None:
        # MediaPipe's iris is not in this opening: the photo does not show the eye (dark or mirrored lenses, a blur;
        # both eyes took one disc). A white painted without an iris read as a blind eye (a grey oval behind glasses,
        # UTKFace tuning crop 59_0_0); the warp's own eye region is left.
        return
    # The upper lid's shadow on the eyeball, and the sclera darker toward the corners (the eyeball curves away) ...
    under = np.maximum(vd - up_d, 0.0) / max(_LID_SHADOW_REACH * fd.width, 0.7)
    shadow = 1.0 - _LID_SHADOW * np.exp(-(under**2))
    shadow = shadow * (1.0 - _EDGE_SHADE * np.exp(-np.maximum(lo_d - vd, 0.0) / max(0.05 * fd.width, 0.6)))
    curve = 0.85 + 0.15 * np.sin(np.pi * np.clip(a_d, 0.0, 1.0))
    off_iris = np.ones(a_d.shape, bool)
    if disc is not None:
        ix, iy = fs.coords(np.array([disc[0][0]]), np.array([disc[0][1]]))
        dist = np.hypot(eu - ix[0], ev - iy[0])
        off_iris = dist > _GAIN_IRIS * disc[1]
        # ... and just outside the iris, the limbus's grey shading into the white.
        outside = np.maximum(dist - disc[1], 0.0) / max(_LIMBAL[1] * disc[1], 0.7)
        curve = curve * (1.0 - _LIMBAL[0] * np.exp(-(outside**2)))
        # ... and the sphere above and below it (the iris faces forward, on the cornea)
        turn = np.clip((ev - iy[0]) / (EYEBALL_RADII * disc[1]), -1.0, 1.0)
        sphere = _SPHERE_SHADE * 0.5 * turn**2 * (1.0 - _iris_ring(dist, disc[1]))
        curve = curve * (1.0 - sphere)
    # ... and as the photo's own white is across the eye, where it is kept.
    ratio = _luma(eyeball) / np.maximum(float(_luma(sclera)) * shadow * curve, 1e-6)  # a black eye has no white
    paint = sclera * _sclera_gain(a_d, ratio, (in_src > _GAIN_CORE) & (open_d > 0.5) & off_iris)[..., None]
    # The corners' grey on what is painted there (not in the gain's reference: a kept bright corner would dim it all).
    curve = curve * (1.0 - _CORNER_SHADE * (1.0 - np.sin(np.pi * np.clip(a_d, 0.0, 1.0))) ** 3)
    detail = np.zeros_like(paint)  # the photo's own iris's texture, added unsoftened (it is as soft as the photo)
    own = np.zeros(a_d.shape)
    if disc is not None:  # the photo's own catchlight, where it showed the iris: kept, and no second one painted
        # In the iris's upper part (where a portrait's light is reflected), clear of the upper margin: below it, a
        # hooded eye's lower-lid wet line, bright on a soft photo, was kept as a catchlight (a sharp 1 px scratch
        # across the painted iris, UTKFace crops in surprise).
        seen = (dist < 0.8 * disc[1]) & (ev > eu_up + inset) & (ev < iy[0] + 0.25 * disc[1]) & (open_d > 0)

        def glint_of(px: np.ndarray) -> np.ndarray:  # how far pixels are a catchlight
            return _glint(px, sclera, iris_rgb)

        # A catchlight is nearly colourless: a pink wet line or lid skin counted as one against the iris's lit colour
        # (brighter than its median) and was kept in the painted iris as a red scribble (bench portraits, surprise).
        tint = np.abs(eyeball - _luma(eyeball)[..., None]).max(-1) / np.maximum(_luma(eyeball), 1.0)
        own = glint_of(eyeball) * seen * _smoothstep((_GLINT_CHROMA - tint) / 0.05 + 0.5)
    if disc is not None and iris_rgb is not None:
        # Its own texture wherever the photo shows any of its iris, a slit's too (its margins' bands leave ``clean``
        # nothing there): the pixels of the opening in the disc that are neither lash shadow, skin nor catchlight.
        shows = _iris_shown(img, fs, disc, iris_rgb, sclera, look_colours(look)[0], x0, y0, gx.shape)

        def iris_clean(u: np.ndarray, v: np.ndarray) -> np.ndarray:
            x, y = fs.to_image(u, v)
            got = cv2.remap(shows, (x - x0).astype(np.float32), (y - y0).astype(np.float32), cv2.INTER_LINEAR,
                            borderMode=cv2.BORDER_CONSTANT, borderValue=0.0)  # fmt: skip
            return np.maximum(clean(u, v), got.astype(np.float64))

        # (its pupil counts toward the radial profile, but none of it is carried)
        pupil = (dist < _PUPIL * disc[1]) & (ev > eu_up + _MARGIN_PX) & (ev < eu_lo - _MARGIN_PX)
        shown, spots_at = np.maximum(iris_clean(eu, ev), pupil), None
        if turned:  # all of the turned iris is its own (the tests of what a photo's iris is left its top out) ...
            shown = np.maximum(shown, painted)
            # ... but its catchlight with its halo: carried mirrored into its top, a bright streak above the kept one
            box = img[y0:y1, x0:x1].astype(np.float64)
            in_disc = np.hypot(gx - disc[0][0], gy - disc[0][1]) < 0.8 * disc[1]
            # (only where the eye is turned: the photo's lid skin over a raised iris's top is as bright as one against
            # the iris, and carried whole with its halo it drew a dark lash line and pale flecks across the iris's top)
            catchlight_at = _catchlight_at(glint_of(box) * in_disc * kept[y0:y1, x0:x1], disc[1], x0, y0)

            def spots_at(u: np.ndarray, v: np.ndarray) -> np.ndarray:  # at the photo's eye frame points
                return catchlight_at(*fs.to_image(u, v))

            shown = shown * (1.0 - spots_at(eu, ev))
            lit = _kept_catchlight(img, catchlight_at, spots_at(eu, ev), mx - gx, my - gy, gx, gy)
        detail, whole, mean = _own_iris(img, fs, iris_clean, eu, ev, (ix[0], iy[0]), dist, disc[1], eyeball, shown,
                                     glint_of, spots_at)  # fmt: skip
        if turned and whole.max() > 0:  # the turned iris goes on in its own colours (below), as turn_eyes painted
            # its hidden part: drawn, its top over a turned iris looking up was a lighter grey-brown disc
            own_iris = (_iris_ring(dist, disc[1]), mean)
        else:
            paint = _paint_iris(
                paint, dist, disc[1], iris_rgb, sclera, mx - disc[0][0], my - disc[0][1], glint=bool(own.max() < 0.5)
            )  # fmt: skip
        # An iris's fibres are faint: what stands out further (a lash, a catchlight, the wet line a narrowed eye shows
        # in its iris) drew a scribble across the painted one (bench portraits of squinting men, surprise).
        reach = _IRIS_TEXTURE * float(_luma(iris_rgb))
        detail = np.clip(detail, -reach, reach) * (whole * _iris_ring(dist, disc[1]))[..., None]
    in_src = np.maximum(in_src, own)
    paint = paint * (shadow * curve)[..., None]
    if own_iris is not None:  # in the lid's shadow only (the limbal and corner greys are the white's)
        paint = paint * (1.0 - own_iris[0][..., None]) + own_iris[1] * (own_iris[0] * shadow)[..., None]
    if blur > 0:  # as soft as the photo: the paint and the opening's edge (the kept eyeball is the photo's own)
        paint = cv2.GaussianBlur(paint, (0, 0), blur)
        open_d = cv2.GaussianBlur(open_d, (0, 0), blur)
    # The iris's texture, the white's and the photo's grain are the photo's own fineness: added unsoftened (the grain
    # added before the softening left the white smooth as plastic beside the grainy skin of soft UTKFace crops).
    texture, textured = _white_texture(img, fs, clean, gx, gy, eu, ev, disc)
    if disc is not None:
        textured = textured * (1.0 - _iris_ring(dist, disc[1]))
    noise = grain(look, paint.shape[:2]) * _WHITE_GRAIN * (1.0 - textured)
    paint = paint + (detail + texture * textured[..., None]) * (shadow * curve)[..., None] + noise[..., None]
    content = eyeball * in_src[..., None] + paint * (1 - in_src[..., None])
    if lit is not None:  # the turned eye's catchlight whole, over the lid margin's band too (see _kept_catchlight)
        spot = lit[1] * whole_open
        content = content * (1.0 - spot[..., None]) + lit[0] * spot[..., None]
        open_d = np.maximum(open_d, spot)
    new = (1.0 - in_src) * open_d
    region = out[y0:y1, x0:x1].astype(np.float64)
    wa = open_d[..., None]
    region = region * (1 - wa) + content * wa
    out[y0:y1, x0:x1] = np.clip(region + 0.5, 0, 255).astype(np.uint8)
    mask[y0:y1, x0:x1] = np.maximum(mask[y0:y1, x0:x1], np.maximum(new, open_d * 0.5).astype(np.float32))


def _look_eye_colours(look: PhotoLook, fs: ContourFrame, eye: int, disc) -> tuple[np.ndarray, np.ndarray | None]:
    """:func:`_eye_colours` of the look's photo for the eye whose first upper-lid vertex is ``eye``, measured once per
    iris ``disc`` (the lid skin's luma and the cheek's colour as its floor and skin reference)."""
    img = look.image
    cheek_luma = float(_luma(look_colours(look)[0]))
    skin_luma = look.measure(("lid skin", eye), lambda: min(cheek_luma, _lid_skin_luma(img, fs)))
    iris_key = None if disc is None else (*np.round(disc[0], 6).tolist(), round(disc[1], 6))
    return look.measure(
        ("eye colours", eye, iris_key),
        lambda: _eye_colours(img, fs, disc, skin_luma=skin_luma, skin_rgb=look_colours(look)[0]),
    )


def _glint(px: np.ndarray, sclera: np.ndarray, iris_rgb: np.ndarray | None) -> np.ndarray:
    """How far pixels ``px`` (..., 3) of an eye are a catchlight (0..1): brighter than ``_OWN_GLINT`` of the way from
    the iris's own shade ``iris_rgb`` (0 without it) to the white ``sclera``."""
    dark = float(_luma(iris_rgb)) if iris_rgb is not None else 0.0  # of the iris's own shade, not the white's
    bright = max(float(_luma(sclera)) - dark, 1.0)
    return _smoothstep(((_luma(px) - dark) / bright - _OWN_GLINT) / 0.15)


def _catchlight_at(glint: np.ndarray, radius: float, x0: int, y0: int):
    """Where the photo's catchlight is, as a lookup of image points ``(x, y)`` -> 0..1 (0 outside the map): a map
    ``glint`` (:func:`_glint` of a box whose top-left pixel is ``(x0, y0)``, kept to an iris of ``radius`` pixels) grown
    by its soft halo (``_GLINT_HALO``): dimmer than a catchlight, the halo carried with the iris drew a second one."""
    grow = 2 * int(np.ceil(_GLINT_HALO * radius)) + 1
    halo = cv2.GaussianBlur(cv2.dilate(glint, np.ones((grow, grow))), (0, 0), 0.5 * _GLINT_HALO * radius)
    spots = np.maximum(glint, halo).astype(np.float32)

    def at(x: np.ndarray, y: np.ndarray) -> np.ndarray:
        got = cv2.remap(spots, (x - x0).astype(np.float32), (y - y0).astype(np.float32), cv2.INTER_LINEAR,
                        borderMode=cv2.BORDER_CONSTANT, borderValue=0.0)  # fmt: skip
        return got.astype(np.float64)

    return at


def _kept_catchlight(img, catchlight_at, spot, dx, dy, gx, gy) -> tuple[np.ndarray, np.ndarray] | None:
    """``(pixels, weight)``: a turned eye's catchlight (``catchlight_at``: :func:`_catchlight_at` of ``img``) put back
    at pixels ``(gx, gy)`` whole pixels from where it is, by the offset ``(dx, dy)`` (the eyeball's points in ``img``
    less ``(gx, gy)``) rounded at its middle (``spot``: where it lands, 0..1); None without one. Resampled at a
    sub-pixel offset with the eyeball and blended with the warp where a lid rose less than its margin band, the
    astronaut's looking up kept 180 of its 217 (the warp had stretched the catchlight up the eye)."""
    if spot.sum() <= 0.0:
        return None
    ox, oy = (float(np.round((d * spot).sum() / spot.sum())) for d in (dx, dy))
    lx, ly = gx + ox, gy + oy
    return _sample(img, lx, ly), catchlight_at(lx, ly)


def _iris_shown(img, fs: ContourFrame, disc, iris_rgb, sclera, skin_rgb, x0: int, y0: int, shape) -> np.ndarray:
    """Where (0 or 1, float32 image ``shape`` from pixel ``(x0, y0)``) the photo shows its own iris ``disc``: inside
    its opening by ``_MARGIN_PX``, out of its pupil (``_PUPIL``: drawn; a slit's pupil carried over was a scribble of
    catchlight and lashes) to ``_IRIS_RING[1]`` of the radius, at least ``_IRIS_SHADOW`` of the iris's luma
    ``iris_rgb`` (not a lash's shadow), within ``_IRIS_HUE`` of its chromaticity (a reddened wet line), neither skin
    nor catchlight (:func:`_not_iris`)."""
    gy, gx = np.mgrid[y0 : y0 + shape[0], x0 : x0 + shape[1]].astype(np.float64)
    patch = np.zeros(shape + (3,))
    h, w = min(shape[0], img.shape[0] - y0), min(shape[1], img.shape[1] - x0)
    patch[:h, :w] = img[y0 : y0 + h, x0 : x0 + w]
    u, v = fs.coords(gx, gy)
    up, lo = fs.profile(np.clip(u, 0.0, fs.width))
    d = np.hypot(gx - disc[0][0], gy - disc[0][1]) / disc[1]
    inside = (v > up + _MARGIN_PX) & (v < lo - _MARGIN_PX) & (u > 0.0) & (u < fs.width)
    ring = (d > _PUPIL) & (d < _IRIS_RING[1])
    luma = _luma(patch)
    lit = luma >= _IRIS_SHADOW * float(_luma(iris_rgb))
    hue = np.abs(patch / np.maximum(luma, 1.0)[..., None] - iris_rgb / max(float(_luma(iris_rgb)), 1.0)).max(-1)
    seen = inside & ring & lit & (hue < _IRIS_HUE) & ~_not_iris(patch, sclera, skin_rgb)
    seen[h:], seen[:, w:] = False, False
    return seen.astype(np.float32)


def _white_texture(img, fs: ContourFrame, clean, gx, gy, eu, ev, disc) -> tuple[np.ndarray, np.ndarray]:
    """``(texture, weight)``: the photo's own white's fine structure (vessels, unevenness; RGB, about zero mean) for the
    eyeball at the photo's eye frame points ``(eu, ev)``. It is read where the photo shows its white beside the iris
    ``disc`` (level with its middle, from ``_GAIN_IRIS`` radii out, as whole as ``clean`` says), finer than
    ``_WHITE_DETAIL[0]`` eye widths, and laid over the eye mirrored back and forth from there: left of the iris
    from its left, right of it from its right. ``weight`` (0..1) is how far the photo shows white where a point's
    texture comes from; 0 everywhere without a disc."""
    if disc is None:
        return np.zeros(eu.shape + (3,)), np.zeros(eu.shape)
    ix, iy = fs.coords(np.array([disc[0][0]]), np.array([disc[0][1]]))
    cu, cv, radius = float(ix[0]), float(iy[0]), float(disc[1])
    sigma = max(_WHITE_DETAIL[0] * fs.width, 1.0)
    x0, y0 = int(gx[0, 0]), int(gy[0, 0])
    pu, pv = fs.coords(gx, gy)
    seen = clean(pu, pv) * _smoothstep((np.hypot(pu - cu, pv - cv) / radius - _GAIN_IRIS) / 0.1 + 1.0)
    if seen.max() <= 0.0:
        return np.zeros(eu.shape + (3,)), np.zeros(eu.shape)
    patch = img[y0 : y0 + gx.shape[0], x0 : x0 + gx.shape[1]].astype(np.float64)
    spread = cv2.GaussianBlur(seen, (0, 0), sigma)
    low = cv2.GaussianBlur(patch * seen[..., None], (0, 0), sigma) / np.maximum(spread, 1e-6)[..., None]
    fine = np.clip(patch - low, -_WHITE_DETAIL[1], _WHITE_DETAIL[1]) * seen[..., None]
    fine = np.concatenate([fine, seen[..., None]], axis=-1).astype(np.float32)

    def fold(x: np.ndarray, lo: float, hi: float) -> np.ndarray:  # x mirrored back and forth into [lo, hi]
        span = max(hi - lo, 1e-6)
        t = np.mod(x - lo, 2.0 * span)
        return lo + np.where(t > span, 2.0 * span - t, t)

    level = (np.abs(pv - cv) < 0.5 * radius) & (seen > 0.5)  # the white it shows beside its iris, each side
    inner, outer = level & (pu < cu), level & (pu > cu)
    mv = fold(ev, cv - 0.5 * radius, cv + 0.5 * radius)
    sides = []
    for lo, hi in ((float(pu[inner].min()) if inner.any() else cu, cu - _GAIN_IRIS * radius),
                   (cu + _GAIN_IRIS * radius, float(pu[outer].max()) if outer.any() else cu)):  # fmt: skip
        x, y = fs.to_image(fold(eu, lo, hi), mv)
        got = cv2.remap(fine, (x - x0).astype(np.float32), (y - y0).astype(np.float32), cv2.INTER_LINEAR,
                        borderMode=cv2.BORDER_CONSTANT, borderValue=0.0).astype(np.float64)  # fmt: skip
        sides.append(got * _smoothstep((hi - lo) / (_WHITE_DETAIL[2] * radius) - 1.0))  # folded short: stripes
    right = _smoothstep((eu - cu) / max(0.5 * radius, 1.0) + 0.5)[..., None]
    both = sides[0] * (1.0 - right) + sides[1] * right
    weight = np.clip(both[..., 3], 0.0, 1.0)
    return both[..., :3] / np.maximum(weight, 1e-3)[..., None] * (weight > 1e-3)[..., None], weight


def _photo_eye_frame(look: PhotoLook, upper_ids, lower_ids) -> ContourFrame:
    """:func:`eye_frame` of the look's face, made once."""
    return look.measure(("eye frame", upper_ids[0]), lambda: eye_frame(look.src, upper_ids, lower_ids))


def _lid_skin_luma(img: np.ndarray, fs: ContourFrame) -> float:
    """Median luma of the lid skin above the eye (``_LID_SKIN`` eye widths above the upper contour, middle columns):
    it shares the eye's shade or tinted lens, where the cheek may not."""
    u = np.linspace(0.3, 0.7, 9) * fs.width
    x, y = fs.to_image(u, fs.profile(u)[0] - _LID_SKIN * fs.width)
    xi = np.clip(np.round(x).astype(int), 0, img.shape[1] - 1)
    yi = np.clip(np.round(y).astype(int), 0, img.shape[0] - 1)
    return float(np.median(_luma(img[yi, xi].astype(np.float64))))


def _sclera_gain(a: np.ndarray, ratio: np.ndarray, kept: np.ndarray) -> np.ndarray:
    """Per column (``a``: share of the eye's width), the photo's own white over the painted one where the photo's
    eyeball is kept whole (``kept``; the median, as the lower margin's lash shadow reaches into it), relative to the
    brightest column and interpolated across the eye: the painted white shades as the photo's does (darker toward a
    corner in shadow), its level stays the photo's brightest white (MediaPipe put a raised lid on the iris top when
    the painted white was dim; see ``_SCLERA_PERCENTILE``)."""
    n = _GAIN_BINS
    idx = np.clip((a * n).astype(int), 0, n - 1)
    centres, gains = [], []
    for k in range(n):
        r = ratio[kept & (idx == k)]
        if r.size >= _GAIN_MIN_PX:
            centres.append((k + 0.5) / n)
            gains.append(float(np.median(r)))
    if not gains:
        return np.ones_like(a)
    gains = np.clip(np.asarray(gains) / max(max(gains), 1e-6), _GAIN_LEAST, 1.0)
    return np.interp(a, centres, gains)


def _sample(img: np.ndarray, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """``img`` (float64) at pixel positions ``x``, ``y`` (bilinear, reflected at the border)."""
    return cv2.remap(img, x.astype(np.float32), y.astype(np.float32), cv2.INTER_LINEAR,
                     borderMode=cv2.BORDER_REFLECT_101).astype(np.float64)  # fmt: skip


def _iris_ring(dist, radius: float) -> np.ndarray:
    """How far pixels ``dist`` pixels from the centre of an iris of ``radius`` are inside it (a soft rim)."""
    return _smoothstep((radius - dist) / max(_IRIS_EDGE_PX, _IRIS_EDGE * radius) + 0.5)


def _paint_iris(paint, dist, radius: float, iris_rgb, sclera, dx, dy, *, glint: bool = True) -> np.ndarray:
    """``paint`` with an iris of ``radius`` pixels at distance ``dist`` (``dx``, ``dy``: image offsets from its
    centre): a dark limbal ring, a pupil and a soft catchlight (up and a little to the image's left, the same in both
    eyes, as one light gives), edges as soft as the photo's scale allows. A flat disc cut by the lids of a narrowed
    eye read as a dark box (UTKFace broad smilers, anger). A photo's iris is not flat: a narrow soft limbal ring, a
    lighter, more saturated middle zone, a darker collarette, the upper lid's shadow across its top (``_LIMBUS``...).
    The photo's own iris texture is added on it (:func:`_own_iris`)."""
    edge = max(1.0, _IRIS_EDGE * radius)
    ring = _iris_ring(dist, radius)
    t = dist / max(radius, 1e-6)
    limbus = 1.0 - _LIMBUS[0] * _smoothstep((t - 1.0 + _LIMBUS[1]) / _LIMBUS[1])
    zone = _IRIS_ZONE_GAIN * np.exp(-(((t - _IRIS_ZONE[0]) / _IRIS_ZONE[1]) ** 2))
    collarette = 1.0 - _COLLARETTE_DARK * np.exp(-(((t - _COLLARETTE[0]) / _COLLARETTE[1]) ** 2))
    lid = 1.0 - _IRIS_LID_SHADOW[0] * _smoothstep(
        (-dy / max(radius, 1e-6) - _IRIS_LID_SHADOW[1]) / (1.0 - _IRIS_LID_SHADOW[1])
    )
    dark = min(_PUPIL_DARK, _PUPIL_LUMA / max(float(_luma(iris_rgb)), 1.0))  # a pupil is black in any iris
    pupil = 1.0 - (1.0 - dark) * _smoothstep((_PUPIL * radius - dist) / edge + 0.5)
    grey = float(_luma(iris_rgb))
    tinted = grey + (iris_rgb - grey) * (1.0 + zone)[..., None]  # the middle zone more saturated ...
    iris = np.clip(tinted, 0.0, 255.0) * (limbus * collarette * lid * pupil * (1.0 + zone))[..., None]  # ... lighter
    if glint and radius >= 3.0:  # the cornea's reflection of the light
        glint = np.exp(-((np.hypot(dx + 0.25 * radius, dy + 0.35 * radius) / (0.16 * radius)) ** 2))
        light = np.maximum(sclera, 1.15 * float(np.max(sclera)))
        iris = iris + (light - iris) * (_GLINT * glint)[..., None]
    return paint * (1 - ring[..., None]) + iris * ring[..., None]


def _own_iris(img, fs: ContourFrame, clean, eu, ev, centre, dist, radius: float, eyeball, shown, glint, spots=None):
    """``(detail, whole, mean)``: the photo's own iris carried into its hidden part, at the photo's eye's frame points
    ``(eu, ev)`` (``dist`` pixels from its iris's ``centre`` of ``radius``). Its mean colour at each distance where
    the photo shows it (``eyeball`` weighted by ``shown``, 0..1) is its radial profile; ``detail``, what is not
    radial (the fibres, the unevenness), comes from the iris's mirror image across its horizontal axis where the photo
    shows that (a raised lid uncovers the top, the bottom shows; ``clean``: frame point -> 0..1), else from it turned
    a quarter toward its side (top and bottom both under the lids, the sides show). ``whole`` is 0 (draw an iris
    instead) where the photo shows too little of its iris to measure; ``mean`` is the radial profile at ``dist`` (zeros
    then). ``glint`` (pixel values -> 0..1): how far a
    pixel is a catchlight, carried over as the iris's mean there (a second one, mirrored); ``spots``, optional (frame
    point -> 0..1), where the catchlight and its halo are, carried over as the mean too."""
    step = max(0.5, radius / 12.0)
    edges = np.arange(0.0, 1.25 * radius + step, step)
    idx = np.digitize(dist, edges) - 1
    w = shown * (1.0 - glint(eyeball))
    nb = len(edges) - 1
    ok = (idx >= 0) & (idx < nb)
    weight = np.bincount(idx[ok], w[ok], nb)
    sums = np.stack([np.bincount(idx[ok], (w * eyeball[..., c])[ok], nb) for c in range(3)], -1)
    mids = 0.5 * (edges[:-1] + edges[1:])
    have = weight >= 2.0
    if have[mids < radius].mean() < _IRIS_SEEN:
        return np.zeros(eu.shape + (3,)), np.zeros(eu.shape), np.zeros(eu.shape + (3,))
    prof = sums[have] / weight[have][:, None]
    mean = np.stack([np.interp(dist, mids[have], prof[:, c]) for c in range(3)], -1)
    cu, cv = centre
    du, dv = eu - cu, ev - cv
    right = _smoothstep(du / (0.3 * radius) + 0.5)  # turned toward its own side; both near the top's middle
    detail = np.zeros_like(mean)
    # Not at the rim: there a small misplacement of the disc or an iris not quite round carried the white (or the
    # iris) across it as a jagged edge (FRLL calibration eyes); the rim is the photo's mean.
    inner = _smoothstep((_IRIS_DETAIL[1] * radius - dist) / ((_IRIS_DETAIL[1] - _IRIS_DETAIL[0]) * radius))
    # Nor in the pupil, which is drawn: carried over, a narrowed eye's pupil (crossed by lashes, a catchlight, the wet
    # line) was a scribble in the painted one (bench portraits of squinting men widened to surprise).
    inner = inner * _smoothstep((dist - _PUPIL * radius) / max(1.0, _IRIS_EDGE * radius) + 0.5)
    rest = 1.0 - clean(eu, cv - dv)  # left to the turned iris
    for u, v, share in ((eu, cv - dv, 1.0), (cu - dv, cv + du, rest * right), (cu + dv, cv - du, rest * (1 - right))):
        px = _sample(img, *fs.to_image(u, v))
        lit = glint(px) if spots is None else np.maximum(glint(px), spots(u, v))
        px = px + (mean - px) * lit[..., None]
        detail = detail + (px - mean) * (clean(u, v) * share * inner)[..., None]
    return detail, np.ones(eu.shape), mean


def _eye_colours(
    img: np.ndarray, fs: ContourFrame, disc, *, skin_luma: float | None = None, skin_rgb: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray | None]:
    """The photo's sclera and iris colours, RGB 0..255: the sclera is the bright pixels of the opening outside the iris,
    in the tint of the white beside the iris where the photo shows enough of it; the iris is :func:`_iris_colour`.
    ``skin_rgb``: the cheek's colour (what of the opening is skin, not iris)."""
    poly = np.round(np.stack(fs.to_image(*_outline(fs)), axis=1)).astype(np.int32)
    x0, y0 = np.maximum(poly.min(0), 0)
    x1, y1 = poly.max(0) + 1
    m = np.zeros((max(y1 - y0, 1), max(x1 - x0, 1)), np.uint8)
    cv2.fillPoly(m, [poly - (x0, y0)], 1)
    m = cv2.erode(m, np.ones((3, 3), np.uint8)) if m.sum() > 20 else m
    patch = img[y0:y1, x0:x1].astype(np.float64)[: m.shape[0], : m.shape[1]]
    m = m[: patch.shape[0], : patch.shape[1]] > 0
    gy, gx = np.mgrid[y0 : y0 + patch.shape[0], x0 : x0 + patch.shape[1]]
    in_iris = np.zeros_like(m)
    if disc is not None:
        in_iris = np.hypot(gx - disc[0][0], gy - disc[0][1]) < disc[1]
    white = patch[m & ~in_iris]
    if len(white) < 4:
        sclera = np.array([215.0, 205.0, 200.0])
    else:
        luma = _luma(white)
        sclera = np.median(white[luma >= np.percentile(luma, _SCLERA_PERCENTILE)], axis=0)
    chroma = _SCLERA_CHROMA
    side = np.zeros((0, 3))
    if disc is not None and fs.gap(np.linspace(0.0, 1.0, 33)).max() >= _SLIT[1] * 2.0 * disc[1]:
        side = patch[m & _beside_iris(fs, disc, *fs.coords(gx, gy))]  # (a slit's white is its lash shadows)
    elif disc is not None:  # a slit's brightest pixels are lid skin: its white is nearly grey
        chroma = _SLIT_CHROMA
    if len(side) >= _SCLERA_SEEN:  # the white the photo shows beside its iris: its own tint
        tint, chroma = _lit_white(side), _SEEN_CHROMA
        level = max(float(_luma(tint)), float(_luma(sclera)))
        sclera = tint * (level / max(float(_luma(tint)), 1.0))
    if skin_luma is not None:  # a small, shaded opening holds little clean white: never darker than the skin
        sclera = sclera * max(1.0, _SCLERA_FLOOR * skin_luma / max(float(_luma(sclera)), 1.0))
    grey = float(_luma(sclera))
    cast = grey  # the photo's neutral: a grey in the cheek's cast (see _WHITE_SKIN_TINT)
    if skin_rgb is not None:
        cast = grey * (1.0 + _WHITE_SKIN_TINT * (skin_rgb / max(float(_luma(skin_rgb)), 1.0) - 1.0))
    spread = float(np.abs(sclera - cast).max())
    if spread > chroma * grey:
        sclera = cast + (sclera - cast) * (chroma * grey / spread)
    iris_rgb = None
    if disc is not None and (m & in_iris).sum() >= 4:
        iris_rgb = _iris_colour(patch, m & in_iris, fs, disc, gx, gy, sclera, skin_rgb)
    return sclera, iris_rgb


def _not_iris(px: np.ndarray, sclera: np.ndarray, skin_rgb: np.ndarray | None) -> np.ndarray:
    """Which pixels ``px`` ``(..., 3)`` of an eye opening are not its iris's own colour: a catchlight (at least
    ``_IRIS_GLINT`` of the sclera's luma) or skin (within ``_IRIS_SKIN`` of ``skin_rgb``'s chromaticity and at least
    ``_IRIS_SKIN_LUMA`` of its luma)."""
    luma = _luma(px)
    out = luma >= _IRIS_GLINT * float(_luma(sclera))
    if skin_rgb is not None:
        skin_l = max(float(_luma(skin_rgb)), 1.0)
        near = np.abs(px / np.maximum(luma, 1.0)[..., None] - skin_rgb / skin_l).max(-1) < _IRIS_SKIN
        out |= near & (luma >= _IRIS_SKIN_LUMA * skin_l)
    return out


def _iris_colour(patch, in_iris, fs: ContourFrame, disc, gx, gy, sclera, skin_rgb) -> np.ndarray:
    """The photo's iris colour, RGB: the median of the lit half (``_IRIS_LIT`` percentile of luma up) of the iris's
    ring (``_IRIS_RING`` of its radius from its centre) below the upper margin's band and above the lower one's, neither
    catchlight nor skin (:func:`_not_iris`); with fewer than ``_IRIS_MIN_PX`` such pixels, of the whole disc in the
    opening less those; with fewer again, of the whole disc. ``in_iris``: the disc's pixels in the opening."""
    d = np.hypot(gx - disc[0][0], gy - disc[0][1]) / disc[1]
    u, v = fs.coords(gx.astype(np.float64), gy.astype(np.float64))
    up, lo = fs.profile(np.clip(u, 0.0, fs.width))
    clear = (v > up + _MARGIN_SHARE * (lo - up)) & (v < lo - _IRIS_LOWER * (lo - up))
    ok = in_iris & ~_not_iris(patch, sclera, skin_rgb)
    for sel in (ok & clear & (d > _IRIS_RING[0]) & (d < _IRIS_RING[1]), ok, in_iris):
        if sel.sum() >= _IRIS_MIN_PX or sel is in_iris:
            px = patch[sel]
            luma = _luma(px)
            return np.median(px[luma >= np.percentile(luma, _IRIS_LIT)], axis=0)
    return np.median(patch[in_iris], axis=0)


def _lit_white(px: np.ndarray) -> np.ndarray:
    """The median colour of the lit part (``_SCLERA_LIT`` percentile of luma up) of white pixels ``px`` ``(n, 3)``."""
    luma = _luma(px)
    return np.median(px[luma >= np.percentile(luma, _SCLERA_LIT)], axis=0)


def _beside_iris(fs: ContourFrame, disc, u: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Which points ``(u, v)`` of the photo's eye frame are its white left and right of its iris ``disc``: level with
    the iris (within its radius of its centre, up or down), outside ``_GAIN_IRIS`` radii of it, and clear of both lids'
    margin bands (``_MARGIN_SHARE`` of the opening's height each)."""
    up, lo = fs.profile(np.clip(u, 0.0, fs.width))
    band = _MARGIN_SHARE * (lo - up)
    cu, cv = fs.coords(np.array([disc[0][0]]), np.array([disc[0][1]]))
    level = np.abs(v - cv[0]) < disc[1]
    outside = np.hypot(u - cu[0], v - cv[0]) > _GAIN_IRIS * disc[1]
    return level & outside & (v > up + band) & (v < lo - band) & (u > 0.0) & (u < fs.width)


def _outline(fs: ContourFrame) -> tuple[np.ndarray, np.ndarray]:
    """(u, v) of the eye opening's outline in its frame (upper contour, then the lower contour back)."""
    u = np.linspace(0.0, fs.width, 24)
    up, lo = fs.profile(u)
    return np.concatenate([u, u[::-1]]), np.concatenate([up, lo[::-1]])


def _close_one(out, mask, look: PhotoLook, dst, upper_ids, lower_ids) -> None:
    img, src = look.image, look.src
    fs, fd = _photo_eye_frame(look, upper_ids, lower_ids), eye_frame(dst, upper_ids, lower_ids)
    grid = np.linspace(0.0, 1.0, 33)
    height = float(fs.gap(grid).max())
    ratio = fd.width / fs.width
    drop = fd.profile(grid * fd.width)[0] - fs.profile(grid * fs.width)[0] * ratio  # lid margin moving down
    closing = fs.gap(grid) * ratio - fd.gap(grid)
    if max(drop.max(), closing.max()) < _MIN_CLOSURE_PX or height < 1.0:
        return
    lash = look.measure(("lash extent", upper_ids[0]), lambda: _lash_extent(img, fs))
    tone = lash  # the lid's colours are read from this far above the upper contour up
    if look.measure(("socket shade", upper_ids[0]), lambda: _socket_shade(img, fs, lash)):
        tone = _LASH_BAND[0] * fs.width  # ... a socket's shade from just above the lashes: the lid is in that shade
    h, w = img.shape[:2]
    pts = np.concatenate([eye_polygon(src, upper_ids, lower_ids), eye_polygon(dst, upper_ids, lower_ids)])
    pad = int(np.ceil(lash + 0.3 * height)) + 2
    x0, y0 = np.floor(pts.min(0)).astype(int) - pad
    x1, y1 = np.ceil(pts.max(0)).astype(int) + pad + 1
    x0, y0, x1, y1 = max(x0, 0), max(y0, 0), min(x1, w), min(y1, h)
    if x1 <= x0 or y1 <= y0:
        return
    gx, gy = np.meshgrid(np.arange(x0, x1, dtype=np.float64), np.arange(y0, y1, dtype=np.float64))
    ud, vd = fd.coords(gx, gy)
    us, vs = fs.coords(gx, gy)
    a_d = ud / fd.width
    up_d, lo_d = fd.profile(ud)
    up_s, lo_s = fs.profile(us)
    within = _smoothstep(a_d / 0.04) * _smoothstep((1.0 - a_d) / 0.04)
    region = out[y0:y1, x0:x1].astype(np.float64)

    # 1. Eyeball in place: inside the target opening, the photo at the same place relative to the corners.
    open_d = _smoothstep(vd - up_d) * _smoothstep(lo_d - vd) * _smoothstep(lo_d - up_d) * within
    eu, ev = a_d * fs.width, vd / ratio
    eu_up, eu_lo = fs.profile(eu)
    in_src = _smoothstep(ev - eu_up + 0.5) * _smoothstep(eu_lo - ev + 0.5)
    eyeball = _sample(img, *fs.to_image(eu, ev))
    wa = (open_d * in_src)[..., None]
    region = region * (1 - wa) + eyeball * wa

    # 2. Lid skin over what the lid now covers: above the new margin, below the top of the old lash line.
    col_drop = np.interp(a_d, grid, np.maximum(drop, 0.0))
    # A lid lowered by less than the photo's lash band (a glance down, a droopy or deep-set lid whose crease reads as
    # lash band) is mostly the warp's: its crease moved down. Covered whole and pulled to one lid colour, the part
    # lowered lid of a deep-set eye was a flat skin-coloured slab over its dark crease, its sides nearly hard
    # (UTKFace tuning crop 61_1_3 looking down). So the cover grows with the drop over the lash band too, fades in over
    # the columns' ends (more widely the less the lid shuts), and is pulled toward the lid's colour as far as it shuts.
    shut = np.clip(col_drop / height, 0.0, 1.0)
    ends = _LID_ENDS[0] + (_LID_ENDS[1] - _LID_ENDS[0]) * (1.0 - min(float(drop.max()) / height, 1.0))
    amount = _smoothstep(col_drop / max(0.3 * height, 1.0, lash))
    amount = amount * _smoothstep(a_d / ends) * _smoothstep((1.0 - a_d) / ends)
    soft = max(3.0, _LID_TOP_SOFT * height)  # the top edge fades as wide as the eye is large
    cover = _smoothstep(up_d - vd + 0.5) * _smoothstep((vs - (up_s - lash) + soft) / soft) * amount
    if cover.max() > 0:
        # Lid skin: a membrane fill (OpenCV inpainting) from the skin around the region -- above the lashes,
        # at the corners and the lower lid -- so it meets its surroundings without a step or a pasted edge.
        hole = (cover > 0.02) | ((vd >= up_d - 1.0) & (vd <= lo_d + 1.0) & (within > 0))
        hole = cv2.dilate(hole.astype(np.uint8), np.ones((3, 3), np.uint8))
        radius = max(2.0, 0.15 * fs.width)
        lid_a, lid_cols = look.measure(("lid colours", upper_ids[0]), lambda: _lid_colours(img, fs, tone))
        lid_rgb = np.stack([np.interp(a_d, lid_a, lid_cols[:, c]) for c in range(3)], -1)
        source = region.copy()  # the upper lid's skin does not continue from below its margin (see _LID_PULL)
        below = (vd > lo_d + 1.0) & (a_d > -0.1) & (a_d < 1.1)
        source[below] = lid_rgb[below]
        skin = _membrane_fill(np.clip(source + 0.5, 0, 255).astype(np.uint8), hole, radius)
        skin = skin.astype(np.float64)
        dist = cv2.distanceTransform(hole, cv2.DIST_L2, 3)  # away from the edges, toward the lid's own colour
        pull = (_LID_PULL * _smoothstep(dist / max(_LID_PULL_REACH * height, 1.0)) * shut)[..., None]
        skin = skin * (1 - pull) + lid_rgb * pull
        t = np.clip((vd - (up_s - lash)) / np.maximum(up_d - (up_s - lash), 1.0), 0.0, 1.0)
        # The lid curves over the eyeball: a little lighter over the cornea, darker toward margin and corners.
        shade = (1.0 - 0.12 * t**2) * (0.95 + 0.07 * np.sin(np.pi * np.clip(a_d, 0.0, 1.0)))
        skin = skin * shade[..., None]
        skin_luma = float(np.median(_luma(skin[cover > 0.5]))) if (cover > 0.5).any() else 128.0
        detail, carried = _lid_texture(img, fs, lash, us, vs, x0, y0)  # the photo's own skin, not a smooth fill
        noise = grain(look, skin.shape[:2]) * np.sqrt(np.clip(_luma(skin) / max(skin_luma, 1.0), 0, 1))
        noise = noise * (1.0 - (1.0 - _LID_DETAIL[2]) * carried)
        skin = skin + detail * shade[..., None] + noise[..., None]
        wc = cover[..., None]
        region = region * (1 - wc) + skin * wc

        # 3. Lash line along the new margin, in the photo's lash colour.
        lash_rgb = look.measure(("lash colour", upper_ids[0]), lambda: _lash_colour(img, fs, lash))
        thick = max(0.6, 0.045 * fd.width) * (0.6 + 0.6 * a_d)
        d = vd - up_d  # > 0 below the margin (lashes hang down over the closed lid's edge)
        line = np.exp(-((d / thick) ** 2)) * amount * (0.4 + 0.6 * shut)  # a fully shut lid shows its lashes most
        wl = (0.7 * line)[..., None]
        region = region * (1 - wl) + lash_rgb * wl
        cover = np.maximum(cover, line)
    out[y0:y1, x0:x1] = np.clip(region + 0.5, 0, 255).astype(np.uint8)
    mask[y0:y1, x0:x1] = np.maximum(mask[y0:y1, x0:x1], np.maximum(cover, wa[..., 0]).astype(np.float32))


def _lid_texture(img, fs: ContourFrame, lash: float, us, vs, x0: int, y0: int) -> tuple[np.ndarray, np.ndarray]:
    """``(detail, weight)``: the photo's lid skin's fine structure (RGB, about zero mean; finer than ``_LID_DETAIL[0]``
    eye widths, clipped to ``_LID_DETAIL[1]`` levels) at the photo's eye frame points ``(us, vs)`` (a pixel grid from
    ``(x0, y0)``), read from the skin from ``_LASH_BAND[0]`` eye widths above the top of the lash line to ``_LID_BAND``
    higher, mirrored back and forth down over the lid; ``weight`` is 1 where it is read whole."""
    sigma = max(_LID_DETAIL[0] * fs.width, 1.0)
    band = max(_LID_BAND * fs.width, 2.0)
    pad = int(np.ceil(3.0 * sigma + band + lash)) + 2
    h, w = img.shape[:2]
    bx0, by0 = max(x0 - pad, 0), max(y0 - pad, 0)
    bx1, by1 = min(x0 + us.shape[1] + pad, w), min(y0 + us.shape[0] + pad, h)
    patch = img[by0:by1, bx0:bx1].astype(np.float32)
    fine = np.clip(patch - cv2.GaussianBlur(patch, (0, 0), sigma), -_LID_DETAIL[1], _LID_DETAIL[1])
    # from above the top of the lash line by a lash band (long lashes' tips, mirrored down, drew wavy lines)
    top = fs.profile(np.clip(us, 0.0, fs.width))[0] - lash - 1.0 - _LASH_BAND[0] * fs.width
    below = np.maximum(vs - top, 0.0)
    t = np.mod(below, 2.0 * band)
    v = top - np.where(t > band, 2.0 * band - t, t)  # mirrored up into the band, back and forth
    x, y = fs.to_image(us, v)
    got = cv2.remap(fine, (x - bx0).astype(np.float32), (y - by0).astype(np.float32), cv2.INTER_LINEAR,
                    borderMode=cv2.BORDER_CONSTANT, borderValue=np.nan)  # fmt: skip
    inside = np.isfinite(got).all(-1)
    return np.where(inside[..., None], got, 0.0).astype(np.float64), inside.astype(np.float64)


def _membrane_fill(image: np.ndarray, hole: np.ndarray, radius: float) -> np.ndarray:
    """``image`` (uint8) with ``hole`` (uint8, nonzero: to fill) filled from around it by OpenCV's Telea inpainting
    within ``radius`` pixels. Its cost grows as the hole's area times the radius squared, both of which scale with the
    eye: beyond :data:`_FILL_EXACT_RADIUS` (a 3072 px portrait's eye took 0.9 s) the fill is made on a copy reduced
    to that radius and enlarged back into the hole; the fill is a smooth membrane, so nothing is lost."""
    if radius <= _FILL_EXACT_RADIUS:
        return cv2.inpaint(image, hole, radius, cv2.INPAINT_TELEA)
    h, w = hole.shape
    scale = _FILL_EXACT_RADIUS / radius
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    small = cv2.resize(image, size, interpolation=cv2.INTER_AREA)
    small_hole = (cv2.resize(hole.astype(np.float32), size, interpolation=cv2.INTER_AREA) > 0).astype(np.uint8)
    filled = cv2.resize(cv2.inpaint(small, small_hole, _FILL_EXACT_RADIUS, cv2.INPAINT_TELEA), (w, h),
                        interpolation=cv2.INTER_LINEAR)  # fmt: skip
    return np.where(hole[..., None] > 0, filled, image) if image.ndim == 3 else np.where(hole > 0, filled, image)


def _lash_extent(photo: np.ndarray, fs: ContourFrame) -> float:
    """How far above the upper contour the photo's lashes and liner reach, in pixels.

    Per column, the first height at which the photo is nearly as light as the lid skin higher up (the lighter of
    the top of the search and the skin ``_LID_SKIN`` eye widths up: a liner or shadow as thick as the search made
    its own top the reference); the median over the columns, clamped to ``_LASH_BAND``'s range.
    """
    least, default, most = (f * fs.width for f in _LASH_BAND)
    cols = np.linspace(0.2, 0.9, 8) * fs.width
    up = fs.profile(cols)[0]
    steps = np.arange(0.0, most + 1.0, 0.5)
    heights = np.concatenate([steps, [_LID_SKIN * fs.width]])
    x, y = fs.to_image(cols[None, :], up[None, :] - heights[:, None])
    xi = np.clip(np.round(x).astype(int), 0, photo.shape[1] - 1)
    yi = np.clip(np.round(y).astype(int), 0, photo.shape[0] - 1)
    luma = _luma(photo[yi, xi].astype(np.float64))  # (steps + 1, cols): the last row is the skin higher up
    luma, higher = luma[:-1], luma[-1]
    ref = np.maximum(np.median(luma[-3:], axis=0), higher)
    light = luma >= 0.85 * ref[None, :]
    if not light.any():
        return default
    first = np.where(light.any(0), np.argmax(light, axis=0), len(steps) - 1)
    return float(np.clip(np.median(steps[first]), least, most))


def _socket_shade(photo: np.ndarray, fs: ContourFrame, lash: float) -> bool:
    """Whether the dark band the lash search measured above the upper contour (``lash`` pixels) is the socket's shade,
    not liner or eye shadow: it lightens toward the brow gradually, with no step up as sharp as a painted edge (the
    steepest rise over ``_SOCKET[0]`` eye widths, at least a pixel, is less than ``_SOCKET[1]`` of the band's whole
    rise to the skin above it). A band no thicker than the least lash band is the lashes either way."""
    if lash <= _LASH_BAND[0] * fs.width:
        return False
    cols = np.linspace(0.2, 0.9, 8) * fs.width
    up = fs.profile(cols)[0]
    step = max(0.5, 0.015 * fs.width)
    heights = np.arange(0.0, lash + 0.15 * fs.width, step)
    x, y = fs.to_image(cols[None, :], up[None, :] - heights[:, None])
    px = cv2.remap(photo.astype(np.float32), x.astype(np.float32), y.astype(np.float32), cv2.INTER_LINEAR,
                   borderMode=cv2.BORDER_REPLICATE)  # fmt: skip
    luma = np.median(_luma(px.astype(np.float64)), axis=1)  # up from the contour
    k = max(1, int(round(max(_SOCKET[0] * fs.width, 1.0) / step)))  # at least a pixel: a sharp edge's own spread
    rise = float((luma[k:] - luma[:-k]).max()) if len(luma) > k else 0.0
    return rise < _SOCKET[1] * max(float(luma.max() - luma.min()), 1e-6)


def _lid_colours(photo: np.ndarray, fs: ContourFrame, lash: float) -> tuple[np.ndarray, np.ndarray]:
    """``(a, rgb)``: the lid skin's colour just above the lash line, per column ``a`` (0 .. 1 across the eye, ``rgb``
    ``(n, 3)``): what the closed lid continues (see ``_LID_BAND``)."""
    a = np.linspace(0.0, 1.0, 11)
    cols = a * fs.width
    up = fs.profile(cols)[0]
    reach = max(_LID_BAND * fs.width, 2.0)
    vals = []
    for h in np.linspace(lash + 1.0, lash + 1.0 + reach, 6):
        x, y = fs.to_image(cols, up - h)
        xi = np.clip(np.round(x).astype(int), 0, photo.shape[1] - 1)
        yi = np.clip(np.round(y).astype(int), 0, photo.shape[0] - 1)
        vals.append(photo[yi, xi])
    px = np.stack(vals).astype(np.float64)  # (heights, columns, 3)
    luma = _luma(px)
    lit = luma >= np.percentile(luma, _LID_LIT, axis=0, keepdims=True)
    rgb = (px * lit[..., None]).sum(0) / lit.sum(0)[:, None]
    rgb = np.vstack([rgb[:1], rgb, rgb[-1:]])
    return a, 0.25 * rgb[:-2] + 0.5 * rgb[1:-1] + 0.25 * rgb[2:]


def _lash_colour(photo: np.ndarray, fs: ContourFrame, lash: float) -> np.ndarray:
    """The darkest tenth of the photo's lash band above the upper lid contour."""
    cols = np.linspace(0.15, 0.95, 17) * fs.width
    up = fs.profile(cols)[0]
    vals = []
    for f in (0.0, 0.3, 0.6, 1.0):
        x, y = fs.to_image(cols, up - f * lash)
        xi = np.clip(np.round(x).astype(int), 0, photo.shape[1] - 1)
        yi = np.clip(np.round(y).astype(int), 0, photo.shape[0] - 1)
        vals.append(photo[yi, xi])
    px = np.concatenate(vals).astype(np.float64)
    luma = _luma(px)
    return px[luma <= np.percentile(luma, 10)].mean(0)
