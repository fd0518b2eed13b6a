"""Creases the warp cannot make: a warp moves skin but cannot fold it.

:func:`paint_creases` shades, as folds of the photo's own skin, what a brow lowering (furrows between the brows, the
nose root's fold), a nose wrinkle (oblique lines on the nose, the nasolabial folds) and a cheek raise (crow's feet,
the lower lid's furrow) fold into a face; the editor and the talking portrait call it after their warp.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from facecraft.rigs import ARKIT_INDEX
from facecraft.rigs.default_rig import EYE_L_LOWER, EYE_R_LOWER, SEMANTIC_VERTICES

from .calibration import CROSS_TALK
from .glasses_frame import FRAME_LINE, line_response
from .mouth import _luma, _median_colour, face_colours
from .photo_blur import gaussian, photo_blur, wide_blur
from .photo_look import PhotoLook, exposure

#: Creases the warp cannot make (:func:`paint_creases`): lowered brows' furrows above the inner brow heads (full at
#: ``_FURROW_FULL`` rig units of ``browDown``, darkening ``_FURROW_DARK``, from ``_FURROW_SPREAD`` face widths either
#: side of the midline, ``_FURROW_LENGTH`` long, slightly oblique and curved, deepest ``_FURROW_PEAK`` of the way up),
#: the nose root's one soft fold (``_PROCERUS_*``), a wrinkled nose's oblique lines on its sides (``_WRINKLE_*``) and
#: folds curving from above the nose wings down and out over the cheeks (``_FOLD_DARK`` per rig unit of
#: ``noseSneer``, ``_FOLD_WIDTH`` times as soft, deepest ``_FOLD_PEAK`` of the way down). Drawn as folds of the photo's
#: own skin, not lines on it (a fixed 0.012 face-width grey stroke read as pen on sharp studio photos and on blurry
#: crops alike; straight bars of even darkness, two across the bridge, read as a pair of glasses' bridge): a narrow
#: valley of ``_CREASE_SIGMA[0]`` face widths (``_CREASE_CORE`` of the depth; a furrow is 1-3 mm on a 140 mm face) in a
#: softer one of ``_CREASE_SIGMA[1]`` on its shadowed side, each blurred further by the photo's own blur
#: (:func:`photo_blur`), its lit side lifted by ``_CREASE_LIT`` of the darkening, tapering to nothing at both ends,
#: ``_CREASE_TEXTURE`` deeper over the photo's darker grain, warmer than grey on warm skin (``_CREASE_WARM``).
#: The judges like a dark band across the bridge (72 FRLL calibration photos, mini-Xception: the old two bars left out,
#: disgust .46 -> .13): the root's one fold, 0.4 of the way to 197, keeps it (anger .56 / .18 with the bars -> .54 /
#: .08 by mini-Xception / NetworkV2; disgust .47 / .00 and sadness .78 / .06 unchanged).
#: The furrows at darkening 0.4 and 0.075 face widths long read as two drawn dashes between the brows (the
#: astronaut, FRLL faces); at 0.25 and 0.1 as soft creases, the judges indifferent (anger at 1.0 read as anger by
#: mini-Xception / NetworkV2 / facecraft: 72 FRLL calibration photos .514 / .083 / .069 -> .528 / .069 / .056, 80
#: UTKFace tuning crops .613 / .325 / .412 -> .600 / .300 / .450; disgust .375 / .000 / .153 on the calibration
#: photos either way, UTKFace .287 / .000 / .225 -> .287 / .000 / .250; fear's furrows too: .778 / .569 -> .778 /
#: .542 on the calibration photos, UTKFace unchanged).
#: Still pencilled on at 0.25 (two grey dashes 0.044 face widths apart, the skin between them shaded too, on the
#: tuning photos), and with the nose's lines and the root's fold a dark X between the brows (the astronaut): the
#: furrows ran apart toward the top as the nose's lines ran apart toward the bottom from the very ends of the root's
#: fold, a 0.5 darkening 0.07 face widths long, the darkest mark of the face. Now the furrows stand nearly upright
#: (``_FURROW_TILT``), ``_FURROW_SPREAD`` either side of the midline, their narrow valleys ``_FURROW_CORE`` and soft
#: ones ``_FURROW_WIDTH`` times as wide as other creases', the skin bunched between them lit (``_FURROW_RELIEF`` of
#: their darkening); the root's fold (``_PROCERUS_*``) is a long soft shadow, on strong frowns only, and a slight
#: sneer (anger's) barely lines the nose's sides (``_WRINKLE_FROM``). Anger / disgust at 1.0 read as such by
#: mini-Xception / NetworkV2 / facecraft, old -> new, 60 UTKFace tuning crops (500..559): anger .717 / .300 / .550 ->
#: .733 / .333 / .583, disgust .217 / .000 / .183 -> .233 / .000 / .183; 36 FRLL calibration neutrals: anger .500 /
#: .028 / .056 -> .528 / .083 / .028, disgust .278 / .000 / .000 either way. A root's fold 0.028 face widths long at
#: 0.3 to 0.45 read as a dark dot and cost anger on UTKFace (facecraft .550 -> .467).
#: The root's fold at 0.45, its soft valley 1.5 times as wide as other creases' (0.027 face widths), under the
#: furrows' lower ends was the darkest mark of the face, a dark pinched blotch where the lowered, drawn-in brows meet
#: (FRLL faces, the astronaut): the mean luma 0.025 face widths around the nose root (168) against the forehead's,
#: anger at 1.0, fell by 0.10-0.13 on three FRLL calibration faces for the creases, the root's fold nearly all of it
#: (0.01 or less without it); the warp alone changes it by 0.01 (it moves the brow heads ~0.035 face widths in and 0.1
#: down, hair and skin together). Now the root's fold is a finer one (``_PROCERUS_DARK``, ``_PROCERUS_WIDTH``: 0.35,
#: 0.8; the root 0.04-0.06 darker for the creases) and the furrows read as lines, not dots: longer
#: (``_FURROW_LENGTH`` 0.075 -> 0.1), their soft valleys narrower (``_FURROW_WIDTH`` 1.6 -> 0.6). The
#: judges liked the blotch: anger at 1.0 read as anger by mini-Xception / NetworkV2 / facecraft, old -> new, 40
#: UTKFace tuning crops (500..539) .750 / .350 / .575 -> .650 / .325 / .575 (mean p(anger) .542 / .321 / .365 -> .504 /
#: .324 / .356); 36 FRLL calibration neutrals .528 / .111 / .056 -> .500 / .083 / .056; disgust .250 / .000 / .150 ->
#: .275 / .000 / .150 and .278 / .000 / .000 either way; anger's dlib distance < 0.6 .900 either way and .861 -> .889.
#: No fold there (mini-Xception .625 / .389), or one at 0.2 (.650 / .444), cost more; darker furrows (0.35) gave
#: nothing back (.625 / .472); shadows under the lowered brow heads some (.675 / .444) at identity's cost (.900 -> .825
#: on the UTKFace crops).
#: Lit like the photo (session 57): the bunched skin between the furrows, lit on both furrows' inner walls at
#: ``_FURROW_RELIEF``, was a lit stripe between two grey dashes on pale studio skin, lit the same whatever the photo's
#: light. Now each furrow's lit wall follows the light across the face (:func:`_light_across`): evenly lit, toward the
#: bunched skin at ``_FURROW_BUNCH`` of the relief (its soft valley spreading that much less to that side); lit from
#: one side, both furrows' walls facing the light are lit and the others shaded.
#: Still two uniform grey dashes on studio-lit pale skin (FRLL 001, 010) with a thin line across the nose root: the
#: narrow and soft valleys about as wide (0.6 x 0.018 face widths), each furrow one even stroke. Now each is a wide
#: shallow valley (``_FURROW_WIDTH`` 0.6 -> 1.0, ``_FURROW_DARK`` 0.25 -> 0.3, its soft part no deeper for a fainter
#: line) with a short faint fine line about its deepest point (``_FURROW_LINE``, ``_FURROW_LINE_DEPTH``: longer and
#: deeper with the frown), the face's left one shorter (``_FURROW_LENGTH``), the root's fold's fine line short and faint
#: (``_PROCERUS_LINE``); at 0.8 of its length a full frown's furrow is 0.3 as deep as at its deepest (was 0.5) and 0.031
#: face widths wide at half depth (was 0.024). Anger at 1.0, old -> new, mini-Xception / NetworkV2 / facecraft, hit rate
#: (mean p(anger)): 24 UTKFace tuning crops (500..523) .67 / .42 / .54 (.515 / .408 / .358) -> .67 / .42 / .50 (.521 /
#: .393 / .350); 18 FRLL calibration neutrals .50 / .11 / .00 (.377 / .098 / .100) -> .44 / .11 / .00 (.377 / .092 /
#: .101); anger's dlib distance < 0.6 .88 -> .92 and .89 -> .94; disgust unchanged, the browDown response unchanged or
#: up. (The photo's blur, :func:`photo_blur`, reads their edges right: 1.4 px on UTKFace 27_1_2; FRLL photos blurred by
#: 1.5 px read 1.6-1.7; leaving thin lines' edges out (lashes, glasses) moved it by 0.17 px at most.)
#: Two dots and a cross between the brows (session 58): the furrows 0.1 face widths long, deepest 0.4 of the way up,
#: their soft valleys 0.018 wide, were at half their depth 1.25-1.75 times as tall as wide: two dark dots on a small
#: face (the astronaut), with the root's fold a cross on pale studio skin. Now each is a line up from the brows
#: (``_FURROW_LENGTH`` 0.12 / 0.105, ``_FURROW_PEAK`` 0.35, ``_FURROW_WIDTH`` 0.75, ``_FURROW_DARK`` 0.33, its fine line
#: over half to 0.8 of it, ``_FURROW_LINE``): 2.4-2.7 times as tall as wide. Anger at 1.0, old -> new, mini-Xception /
#: NetworkV2 / facecraft, hit rate (mean p(anger)): 24 UTKFace tuning crops (500..523) .67 / .42 / .50 (.521 / .391 /
#: .349) -> .67 / .42 / .58 (.488 / .391 / .342); 18 FRLL calibration neutrals .44 / .11 / .00 (.377 / .092 / .101) ->
#: .44 / .11 / .00 (.363 / .080 / .102); anger's dlib distance < 0.6 .92 -> .88 and .94 -> .89 (one photo each). The
#: judges read the root's fold: shortened to half 0.035 or 0.045 face widths (no cross) or its fine line faint (0.15),
#: NetworkV2 read anger on 8 or 7 of 24 UTKFace crops, not 10 (left as it was); longer furrows (0.14-0.15) and darker
#: (0.35), or their lit walls dimmer (0.45), lost reads on all three.
_FURROW_FULL = 3.0
_FURROW_DARK = 0.33
_FURROW_SPREAD = 0.03
_FURROW_TILT = 0.005  # face widths further apart at the top: nearly upright
_FURROW_LENGTH = (0.12, 0.105)  # the two furrows are rarely alike: the face's left one shorter and fainter
_FURROW_SHARE = (1.0, 0.8)
_FURROW_PEAK = 0.35
_FURROW_CORE = 2.0
_FURROW_WIDTH = 0.65  # 0.75 before session 59 (at ``_PROCERUS_DARK``)
#: Each furrow's fine crease line is short (``_FURROW_LINE``: its length as a share of the valley's at no frown and at
#: a full one, centred on its deepest point) and faint (``_FURROW_LINE_DEPTH`` of the ``_CREASE_CORE`` other creases
#: have at no frown and at a full one): the rest of the darkening is a wide shallow valley.
_FURROW_LINE = (0.5, 0.8)
_FURROW_LINE_DEPTH = (0.4, 0.8)
_FURROW_RELIEF = 0.6
_FURROW_BUNCH = 0.5
_WRINKLE_DARK = 0.3
#: The nasolabial fold runs from above the nose wing down and out to ``_FOLD_OUT[1]`` face widths outside the mouth
#: corner at the corner's height, its middle bowed ``_FOLD_OUT[0]`` out over the cheek, and stops ``_FOLD_LENGTH`` of
#: the way there: drawn to beside and below the corner (0.03 out) it hugged the mouth as a dark bracket from nose to
#: chin where anger pulls the corners down. 72 FRLL calibration photos at 1.0 (at 4509bc2; mini-Xception /
#: NetworkV2; dlib distance < 0.6): anger .542 / .083 -> .542 / .083, identity .778 -> .764; disgust .472 -> .444,
#: identity .917 -> .889; 100 UTKFace tuning crops (at 50efba0): anger .730 / .250 -> .730 / .310, identity .91 ->
#: .89; disgust .19 -> .18.
_FOLD_DARK = 0.4
_FOLD_PEAK = 0.3
_FOLD_WIDTH = 1.4
_FOLD_OUT = (0.05, 0.07)
_FOLD_LENGTH = 0.75
_CREASE_SIGMA = (0.005, 0.018)
#: Creases are shaded on a grid ``sigma // _CREASE_GRID`` pixels apart (``sigma``: their core's, in pixels;
#: :func:`paint_creases`): at full size below 6 px (a face under ~1,100 px wide on a sharp photo), coarser on a
#: phone's portrait, where the per-pixel stroke distances took most of a second. Each stroke is shaded within
#: ``_CREASE_REACH`` of its soft widths, where all but 1e-3 of a grey level of it lies.
_CREASE_GRID = 3.0
_CREASE_REACH = 8.0
_CREASE_CORE = 0.45
_CREASE_WARM = 0.5
_CREASE_LIT = 0.15
_CREASE_TEXTURE = 0.5
#: As crisp and contrasted as the photo's own skin (:func:`_skin_grain`): blurring a crease by the photo's blur
#: (:func:`photo_blur`, read at its sharpest edges: 0.8-1.1 px on FRLL studio photos, 1.0-1.8 on 200 px UTKFace crops)
#: left it as deep, and a blurred crop's smooth skin holds far less fine detail than its edges say: a wrinkled nose's
#: fine lines were crisp dark dashes on UTKFace 7_0_0_20170110215620675 and 27_1_2_20170104020735627, darker than
#: anything in the photo. Now the skin's grain under the creases, its luma's spread finer than ``_CREASE_SIGMA[0]``
#: face widths as a share of its level, against ``_GRAIN_SHARP`` (0.5-1.9% on 18 FRLL calibration neutrals, 0.16-0.8%
#: on most of 24 UTKFace tuning crops, 0.40% on both of those; its ratio ``crisp``): the fine lines widen by
#: ``1 / crisp`` (up to the soft valleys' width) and fade by ``crisp``, their depth by about its square. The valleys
#: and lit walls stay: fading them by ``crisp`` too (e03ae3f) lost the judges' reads, which come from the broad
#: darkening, not the lines. Below ``_GRAIN_NONE`` grey levels of grain (a flat canvas; a real photo's is 0.3+) as
#: painted. At 1.0, mini-Xception / NetworkV2 / facecraft hit rate (mean p), crisp lines -> all faded (e03ae3f) -> fine
#: lines alone soft and faint (tuning photos, one process): 24 UTKFace tuning crops anger .67 / .42 / .58 (.488 / .388
#: / .343) -> .62 / .33 / .42 (.471 / .301 / .288) -> .67 / .38 / .54 (.489 / .339 / .326), disgust .38 / .00 / .25
#: (.271 / .000 / .195) -> .25 / .00 / .12 (.215 / .000 / .143) -> .33 / .00 / .21 (.259 / .000 / .177); 18 FRLL
#: calibration neutrals unchanged (anger .44 / .11 / .00, disgust .28 / .00 / .00). On those crops the creases' finest
#: darkening (its part finer than a 1.5 px blur, p99.5, median of 48 edits) .074 -> .039 -> .047, the darkening .302
#: -> .180 -> .246: folds, not pen lines.
_GRAIN_SHARP = 0.006
_GRAIN_NONE = 0.05
#: A glasses frame in front of the creases (a face that :func:`~facecraft.eval.eyewear.wears_glasses`) is no skin: no
#: crease is painted on its pixels (:func:`_frame_pixels`: the dark thin lines a glasses frame's rims and bridge are,
#: :func:`~facecraft.synth.glasses_frame.line_response` over ``FRAME_LINE``, and ``_FRAME_EDGE`` pixels around them;
#: the nose's side lines and folds were drawn on the rims), its crisp edges (``_FRAME_GRAIN`` times the narrow sigma
#: around them) are no skin grain, and the bridge's transverse folds below the frame's bridge keep
#: ``_BRIDGE_GLASSES`` of their fine lines: two crisp arched lines under it read as a second bridge, a crisp "="
#: (UTKFace tuning crop 67_0_0_20170111171747651, whose skin grain measures 0.94-1.0 even without the frame's edges).
#: Disgust / anger at 1.0, mini-Xception / NetworkV2 / facecraft, hits old -> new: 24 UTKFace tuning crops (500..523,
#: 3 with glasses) disgust 8 / 0 / 5 either way, anger 17 / 9 / 13 -> 17 / 8 / 13 (mean p .499 / .366 / .329 -> .499
#: / .365 / .328); 5 more UTKFace tuning crops with glasses disgust 1 / 0 / 0 either way (mean p .247 / .000 / .108
#: -> .268 / .000 / .104), anger 3 / 4 / 2 -> 3 / 5 / 2.
_FRAME_EDGE = 1
_FRAME_GRAIN = 1.5
_BRIDGE_GLASSES = 0.0
#: The light across the face (:func:`_light_across`): the median skin luma within ``_LIGHT_RADIUS`` face widths of
#: mirrored points (``_LIGHT_PAIRS``), its log ratio full side light at ``_LIGHT_SIDE``. On the tuning photos the log
#: ratio is -0.12..0.03 on 18 FRLL calibration neutrals (studio light: furrows lit nearly as before, toward the bunched
#: skin) and -0.86..0.32 on UTKFace 500..539 (7 of 40 beyond 0.25).
_LIGHT_PAIRS = ((205, 425), (117, 346), (108, 337))  # (face's right, left): cheeks, under the eyes, the forehead
_LIGHT_RADIUS = 0.03
_LIGHT_SIDE = 0.3
_CREASE_FROM = CROSS_TALK  # the solve's cross-talk corrections paint no crease
# A wrinkled nose's oblique lines on each side, fanning out and down: (start as a share of the way from the nose root
# (168) to 197, length in face widths, share of ``_WRINKLE_DARK``, degrees below the line across the eyes),
# ``_WRINKLE_INSET`` face widths off the midline, ``_WRINKLE_WIDTH`` as soft as other creases (thin-skinned: fine).
# They start below the root's fold, clear of it (from its ends, 0.016 off the midline, they drew an X with it), and
# deepen from ``_WRINKLE_FROM`` rig units of sneer: anger's 0.6 drew disgust's lines at 0.6 of their depth.
_WRINKLE_AT = ((0.5, 0.1, 1.0, 35.0), (0.8, 0.085, 0.7, 50.0))
_WRINKLE_INSET = 0.045
# Darker (0.35), full at 0.8 rig units (disgust's 0.83) and softer (1.3 wide, a core as wide as the furrows') they
# read less as disgust (8 FRLL calibration neutrals, mini-Xception mean p(disgust) .177 -> .116): left as they were.
# One faint line a side and the root's soft fold read as a faint, barely wrinkled nose (session 58): now two fine lines
# a side fanning out and down (``_WRINKLE_AT``, ``_WRINKLE_WIDTH`` 1.0 -> 0.7) and two short arched lines across the
# bridge below the root (``_BRIDGE_AT``; the root's fold is the frown's only). Disgust at 1.0, old -> new,
# mini-Xception / NetworkV2 / facecraft, hit rate (mean p(disgust)): 24 UTKFace tuning crops .33 / .00 / .25 (.256 /
# .000 / .195) -> .38 / .00 / .25 (.273 / .000 / .193); 18 FRLL calibration neutrals .22 / .00 / .00 (.164 / .000 /
# .105) -> .28 / .00 / .00 (.173 / .000 / .100); its dlib distance < 0.6 unchanged (.96, .83).
_WRINKLE_FROM = 0.5
_WRINKLE_WIDTH = 0.7
#: Between them the bridge folds across (``_BRIDGE_AT``: (share of the way from the root to 197, half length in face
#: widths, share of ``_WRINKLE_DARK``), arched up, their lower walls lit, ``_BRIDGE_WIDTH`` as soft): short fine lines
#: narrower than the bridge, never one straight bar from eye to eye (a pair of glasses' bridge).
_BRIDGE_AT = ((0.6, 0.032, 0.8), (0.85, 0.028, 0.6))
_BRIDGE_WIDTH = 0.6
#: The nose root's one soft fold, per unit of brow lowering past ``_PROCERUS_FROM`` of the full (a moderate frown
#: folds the skin between the brows, not across the nose; a sneer folds the bridge below it, ``_BRIDGE_AT``);
#: ``_PROCERUS_HALF`` face widths either side of the midline, ``_PROCERUS_WIDTH`` as soft as other creases, its core
#: ``_FURROW_CORE`` as soft, its lower wall lit (light from above).
#: A cross on pale studio skin (FRLL calibration 001, 010; session 59): the fold 0.055 face widths either side, 0.4 of
#: the way to 197, ran out past both furrows into the inner eye corners' shadow, and the lit stripe between the furrows
#: (``_FURROW_BUNCH`` 0.8) was its upright. The bunched skin is barely lit now (``_FURROW_BUNCH`` 0.5) and the
#: furrows' soft valleys a little narrower (``_FURROW_WIDTH`` 0.75 -> 0.65): the skin between the furrows FRLL 001 /
#: 010 +4.9 / +7.3 -> +0.0 / +1.3 grey levels. The fold crosses the root 0.4 of the way to 197 as before, 0.04 face
#: widths either side (the furrows are 0.03 off the midline): session 59 had shortened it to a mark just under the
#: furrows (0.2 of the way, 0.035, 0.4 wide, 0.3 dark), which cost the judges' anger reads on the tuning photos (100
#: UTKFace crops from 500 on, 28 broad smilers among them, 36 + 36 FRLL calibration photos; mini-Xception / NetworkV2
#: / facecraft hits at anger 1.0): with the old fold 64 / 25 / 45, 17 / 8 / 17, 15 / 3 / 1, 16 / 5 / 4; short 59 / 24
#: / 39, 17 / 8 / 15, 15 / 3 / 1, 15 / 6 / 3; this 62 / 26 / 43, 17 / 10 / 16, 16 / 4 / 1, 16 / 6 / 4. The furrow
#: width and the bunch's light made no difference to them (59-60 / 23-24 / 39-40 on the UTKFace crops). 0.05 face
#: widths off the midline on the fold's line the old fold darkened flat skin 12-17 grey levels, this one 6.
_PROCERUS_DARK = 0.35
_PROCERUS_FROM = 0.5
_PROCERUS_AT, _PROCERUS_HALF = 0.4, 0.04
_PROCERUS_WIDTH = 0.8
_PROCERUS_LINE = (0.6, 0.5)  # its fine line (``line_share``, ``line_depth``: :class:`_Crease`): short and faint, no bar
#: A raised cheek (AU6: rig ``cheekSquint*``, which moves the cheek only ~0.024 face widths per unit and no smooth
#: skin shows a warp) folds the skin around the eye: crow's feet fanning out from the outer eye corner (``_CROW_AT``:
#: (angle below the line out of the eye in degrees, start and length in eye widths, share of ``_CROW_DARK``), bowed
#: ``_CROW_BOW`` eye widths toward the eye, ``_CROW_WIDTH`` as soft as other creases: fine lines) and the lower lid's
#: furrow under its bulge (``_UNDER_EYE_DOWN`` eye widths below the lid's margin, from ``_UNDER_EYE_SPAN[0]`` to
#: ``_UNDER_EYE_SPAN[1]`` of the way from the inner to the outer corner, ``_UNDER_EYE_DARK``), each per rig unit of the
#: side's ``cheekSquint``. Happiness raises the cheek too (0.6-0.75 rig units on the tuning photos): a Duchenne smile
#: gets faint crow's feet. Happiness at 1.0 read as happiness (mini-Xception / NetworkV2 / facecraft), old -> new, of
#: 100 UTKFace tuning crops 97/93/99 -> 96/95/98, 36 FRLL calibration neutrals 33/33/36 -> 33/32/36, smiling
#: 36/35/36 -> 36/35/36. A furrow at 0.1-0.16 cost NetworkV2 two neutrals (31 of 36); the nasolabial fold deepened by
#: 0.3 of a sneer's per unit of cheek raise cost a smiling photo each with mini-Xception and NetworkV2 (dropped).
_CROW_DARK = 0.2
_CROW_AT = ((-28.0, 0.3, 0.35, 0.8), (8.0, 0.32, 0.38, 0.9), (38.0, 0.28, 0.35, 0.8))
_CROW_BOW = 0.04
_CROW_WIDTH = 0.6
_UNDER_EYE_DARK = 0.08
_UNDER_EYE_DOWN = 0.25
_UNDER_EYE_SPAN = (0.2, 1.05)
_CHEEK = [ARKIT_INDEX["cheekSquintRight"], ARKIT_INDEX["cheekSquintLeft"]]
_EYE_LOWER = (EYE_R_LOWER, EYE_L_LOWER)  # inner corner to outer corner, the face's right eye first
_BROW_DOWN = [ARKIT_INDEX["browDownRight"], ARKIT_INDEX["browDownLeft"]]  # the face's right side first (image left)
_SNEER = [ARKIT_INDEX["noseSneerRight"], ARKIT_INDEX["noseSneerLeft"]]
_BROW_INNER_UP = ARKIT_INDEX["browInnerUp"]
_BROW_INNER = (SEMANTIC_VERTICES["brow_inner_r"], SEMANTIC_VERTICES["brow_inner_l"])
_BROW_LOW = (55, 285)  # the brows' inner lower corners (MediaPipe mesh)
_NOSE_ROOT, _NOSE_BRIDGE, _NOSE_TIP = 168, 197, SEMANTIC_VERTICES["nose_tip"]
_NOSE_WING = (129, 358)  # right, left ala
_MOUTH_CORNERS = (SEMANTIC_VERTICES["mouth_corner_r"], SEMANTIC_VERTICES["mouth_corner_l"])


def _face_axes(dst: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Unit vectors across the face toward its left (the image's right when upright) and down it, in pixels."""
    across = dst[_BROW_INNER[1]] - dst[_BROW_INNER[0]]
    u = across / max(float(np.hypot(*across)), 1e-6)
    v = np.array([-u[1], u[0]])
    if v @ (dst[_NOSE_TIP] - dst[_NOSE_ROOT]) < 0:
        v = -v
    return u, v


def _light_across(image: np.ndarray, dst: np.ndarray) -> float:
    """Where the photo's light comes from across the face, -1 (its right side, the image's left) .. 1 (its left):
    the log ratio of the median skin luma on its left to its right (cheeks, under the eyes, the forehead:
    ``_LIGHT_PAIRS``) per ``_LIGHT_SIDE``; 0 for an evenly lit face."""
    from .warp import face_width

    r = max(1, int(round(_LIGHT_RADIUS * face_width(dst))))
    right = _luma(_median_colour(image, dst[[a for a, _ in _LIGHT_PAIRS]], r))
    left = _luma(_median_colour(image, dst[[b for _, b in _LIGHT_PAIRS]], r))
    ratio = float(np.log(max(float(left), 1.0) / max(float(right), 1.0)))
    return float(np.clip(ratio / _LIGHT_SIDE, -1.0, 1.0))


def _past_cross(value: float) -> float:
    """``value`` (rig units), faded out below ``2 * _CREASE_FROM``: the solve's cross-talk corrections move any
    shape by up to :data:`~facecraft.synth.calibration.CROSS_TALK`; no crease for them."""
    t = float(np.clip((value - _CREASE_FROM) / _CREASE_FROM, 0.0, 1.0))
    return value * t * t * (3.0 - 2.0 * t)


def _bezier(p0: np.ndarray, p1: np.ndarray, p2: np.ndarray, p3: np.ndarray, n: int = 12) -> np.ndarray:
    """``(n, 2)`` points of the cubic Bezier curve through ``p0`` and ``p3``: creases are curved, not ruled."""
    t = np.linspace(0.0, 1.0, n)[:, None]
    return (1 - t) ** 3 * p0 + 3 * t * (1 - t) ** 2 * p1 + 3 * t**2 * (1 - t) * p2 + t**3 * p3


class _Crease(NamedTuple):
    """One crease (:func:`_crease_strokes`): ``line`` (``(n, 2)`` pixels), its darkening ``dark`` (0..1) at ``peak``
    (share of its length from its first point), tapering to nothing at both ends; ``lit``: the side (+1: right of the
    line's direction as seen in the image, -1: left) whose wall catches the light and bulges (light from above and in
    front), 0 for none, between: that side lit by that share, its soft valley spreading the rest to it; ``width``: the
    soft valley's width as a multiple of ``_CREASE_SIGMA[1]``; ``relief``: the lit bulge's lift as a share of ``dark``;
    ``core``: the narrow valley's width as a multiple of ``_CREASE_SIGMA[0]``; ``line_share``: the narrow valley's
    length as a share of the crease's, centred on its deepest point; ``line_depth``: its depth as a share of
    ``_CREASE_CORE``."""

    line: np.ndarray
    dark: float
    peak: float
    lit: float
    width: float
    relief: float = _CREASE_LIT
    core: float = 1.0
    line_share: float = 1.0
    line_depth: float = 1.0


def _crease_strokes(
    dst: np.ndarray, rig_change: np.ndarray, fw: float, light: float = 0.0, glasses: bool = False
) -> list[_Crease]:
    """The creases (:class:`_Crease`) a brow lowering, a nose wrinkle and a cheek raise make.

    Lowered, drawn-together brows (AU4: rig ``browDown*``) fold the skin above the inner brow heads into one or two
    short, slightly curved furrows with a bulge between them, and the procerus into at most one soft fold at the nose
    root; a wrinkled nose (AU9: ``noseSneer*``) creases the upper sides of the nose obliquely, fanning out and down from
    the bridge (never bars across it: two of them read as a pair of glasses' bridge), and deepens the folds that curve
    from above the nose wings down and out over the cheeks; a raised cheek (AU6: ``cheekSquint*``, in a cheek raise,
    happiness and every Duchenne smile) creases the skin beside and below its eye (:func:`_cheek_raise_strokes`). The
    warp moves skin but cannot fold it. ``glasses``: a frame's bridge crosses the nose (``_BRIDGE_GLASSES``)."""
    # AU1 with AU4 (sadness, fear) folds the forehead's middle, not between the brows: the inner raise holds it off.
    # Per side (the face's right side is the image's left): (right, left).
    inner_up = max(float(rig_change[_BROW_INNER_UP]), 0.0)
    down = [float(np.clip(_past_cross(float(rig_change[k]) - inner_up) / _FURROW_FULL, 0.0, 1.0)) for k in _BROW_DOWN]
    sneer = [float(np.clip(_past_cross(float(rig_change[k])), 0.0, 1.0)) for k in _SNEER]
    strokes: list[_Crease] = []
    u, v = _face_axes(dst)
    root, bridge = dst[_NOSE_ROOT], dst[_NOSE_BRIDGE]
    if max(down) > 0 and _FURROW_DARK > 0:
        brow = 0.5 * (dst[_BROW_LOW[0]] + dst[_BROW_LOW[1]])
        mid = root + ((brow - root) @ v) * v  # the midline at the brows' lower edge
        for side, amount, share, length in zip((-1.0, 1.0), down, _FURROW_SHARE, _FURROW_LENGTH, strict=True):
            if amount <= 0:
                continue
            base = mid + side * _FURROW_SPREAD * fw * u
            top = base - length * fw * v + side * _FURROW_TILT * fw * u  # nearly upright
            bow = -side * 0.004 * fw * u  # gently curved, its middle toward the bulge between the two
            line = _bezier(base, base + (top - base) / 3 + bow, base + 2 * (top - base) / 3 + bow, top)
            # its wall facing the photo's light lit, the other shaded: both run up the face, so their right wall (the
            # image's right, upright) is lit by light from the face's right (``light`` < 0); evenly lit, a valley
            dark = amount * share * _FURROW_DARK
            lit = float(np.clip(-side * _FURROW_BUNCH * (1.0 - abs(light)) - light, -1.0, 1.0))
            fine = (np.interp(amount, (0.0, 1.0), _FURROW_LINE), np.interp(amount, (0.0, 1.0), _FURROW_LINE_DEPTH))
            strokes.append(
                _Crease(line, dark, _FURROW_PEAK, lit, _FURROW_WIDTH, _FURROW_RELIEF, _FURROW_CORE, *map(float, fine))
            )
    strong = float(np.clip((np.mean(down) - _PROCERUS_FROM) / (1.0 - _PROCERUS_FROM), 0.0, 1.0))
    procerus = _PROCERUS_DARK * strong
    if procerus > 0:  # one soft fold across the nose root, arched, the skin below it lit
        c = root + _PROCERUS_AT * (bridge - root)
        a, b = c - _PROCERUS_HALF * fw * u, c + _PROCERUS_HALF * fw * u
        lift = -0.006 * fw * v
        line = _bezier(a + 0.002 * fw * v, a + (b - a) / 3 + lift, a + 2 * (b - a) / 3 + lift, b + 0.002 * fw * v)
        # runs toward the image's right: its right is below
        strokes.append(_Crease(line, procerus, 0.5, 1.0, _PROCERUS_WIDTH, _CREASE_LIT, _FURROW_CORE, *_PROCERUS_LINE))
    cheek = [float(np.clip(_past_cross(float(rig_change[k])), 0.0, 1.0)) for k in _CHEEK]
    for lower, amount in zip(_EYE_LOWER, cheek, strict=True):
        if amount > 0:
            strokes += _cheek_raise_strokes(dst[list(lower)], amount, v)
    wrinkle = [float(np.clip((s - _WRINKLE_FROM) / (1.0 - _WRINKLE_FROM), 0.0, 1.0)) for s in sneer]
    if max(wrinkle) > 0 and _WRINKLE_DARK > 0:
        for side, amount in zip((-1.0, 1.0), wrinkle, strict=True):
            if amount <= 0:
                continue
            for t, length, share, angle in _WRINKLE_AT:
                start = root + t * (bridge - root) + side * _WRINKLE_INSET * fw * u
                a = np.radians(angle)
                end = start + length * fw * (side * np.cos(a) * u + np.sin(a) * v)  # out and down the nose's side
                sag = -0.006 * fw * v  # bowed up: the skin bunches above and between them
                line = _bezier(start, start + (end - start) / 3 + sag, start + 2 * (end - start) / 3 + sag, end)
                # deepest by the bridge, lit below
                dark = amount * share * _WRINKLE_DARK
                strokes.append(_Crease(line, dark, 0.3, side, _WRINKLE_WIDTH))
        amount = float(np.mean(wrinkle))
        for t, half, share in _BRIDGE_AT:  # short arched lines across the bridge, the skin below each lit
            c = root + t * (bridge - root)
            a, b = c - half * fw * u, c + half * fw * u
            lift = -0.008 * fw * v
            line = _bezier(a + 0.004 * fw * v, a + (b - a) / 3 + lift, a + 2 * (b - a) / 3 + lift, b + 0.004 * fw * v)
            dark = amount * share * _WRINKLE_DARK
            # under a glasses frame's bridge no fine line: two of them beside it read as a second bridge, "="
            strokes.append(_Crease(line, dark, 0.5, 1.0, _BRIDGE_WIDTH, line_depth=_BRIDGE_GLASSES if glasses else 1.0))
    if max(sneer) > 0:
        for wing, corner, amount, side in zip(_NOSE_WING, _MOUTH_CORNERS, sneer, (-1.0, 1.0), strict=True):
            if amount <= 0:
                continue
            out = dst[wing] - dst[_NOSE_TIP]
            out = out / max(float(np.hypot(*out)), 1e-6)
            # from above the nose wing, bowed out over the cheek, toward the cheek beside the mouth corner
            start = dst[wing] + 0.012 * fw * out - 0.012 * fw * v
            end = start + _FOLD_LENGTH * (dst[corner] + _FOLD_OUT[1] * fw * out - start)
            drop = (end - start) @ v
            upper = start + _FOLD_OUT[0] * fw * out + 0.3 * drop * v
            lower = end + 0.02 * fw * out - 0.45 * drop * v
            curve = _bezier(start, upper, lower, end)
            # deepest beside the nose; lit on the cheek
            strokes.append(_Crease(curve, amount * _FOLD_DARK, _FOLD_PEAK, -side, _FOLD_WIDTH))
    return strokes


def _lit_below(line: np.ndarray, v: np.ndarray) -> float:
    """The ``lit`` side (:func:`_crease_strokes`) of a crease along ``line`` whose lower wall catches the light
    (light from above; ``v``: down the face)."""
    d = line[-1] - line[0]
    return 1.0 if float(np.array([-d[1], d[0]]) @ v) >= 0 else -1.0


def _cheek_raise_strokes(lower: np.ndarray, amount: float, v: np.ndarray) -> list:
    """The creases of one raised cheek (AU6) around its eye, whose lower lid ``lower`` (``(9, 2)`` pixels, inner to
    outer corner) it pushed up: crow's feet fanning from the outer corner and the furrow under the lid's bulge
    (``_CROW_*``, ``_UNDER_EYE_*``), as :func:`_crease_strokes` gives them."""
    inner, outer = lower[0], lower[-1]
    ew = max(float(np.hypot(*(outer - inner))), 1e-6)
    e = (outer - inner) / ew  # out of the eye
    w = v - (v @ e) * e  # down, across the eye's own line
    w = w / max(float(np.hypot(*w)), 1e-6)
    strokes = []
    for angle, start, length, share in _CROW_AT:
        a = np.radians(angle)
        d = np.cos(a) * e + np.sin(a) * w
        p0 = outer + start * ew * d
        p3 = p0 + length * ew * d
        bow = np.sign(angle) * _CROW_BOW * ew * w  # the fan's lines bend around the eye's socket
        line = _bezier(p0, p0 + (p3 - p0) / 3 + bow, p0 + 2 * (p3 - p0) / 3 + bow, p3)
        strokes.append(_Crease(line, amount * share * _CROW_DARK, 0.4, _lit_below(line, v), _CROW_WIDTH))
    seg = np.hypot(*np.diff(lower, axis=0).T)
    along = np.concatenate([[0.0], np.cumsum(seg)]) / max(float(seg.sum()), 1e-6)
    t = np.linspace(_UNDER_EYE_SPAN[0], _UNDER_EYE_SPAN[1], 12)
    past = np.maximum(t - 1.0, 0.0)[:, None] * ew * e  # beyond the outer corner: on along the eye's line
    lid = np.stack([np.interp(np.minimum(t, 1.0), along, lower[:, k]) for k in (0, 1)], axis=1) + past
    line = lid + (_UNDER_EYE_DOWN * ew * (1.0 + 0.3 * t))[:, None] * w  # a little lower toward the outside
    strokes.append(_Crease(line, amount * _UNDER_EYE_DARK, 0.5, _lit_below(line, v), 1.0))
    return strokes


def _stroke_frame(gx: np.ndarray, gy: np.ndarray, line: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per pixel (``gx``, ``gy``: its coordinates, any shape): distance to the polyline ``line``, signed (+ on the
    right of its direction as seen in the image), and the share of its length (0..1) at the nearest point.

    All segments at once, in float32 relative to the line's start: per segment the pixel's position along it and
    across it (both linear in the pixel), the nearest segment the one whose clamped point is nearest (the first of
    equals)."""
    seg = np.diff(line, axis=0)
    lengths = np.hypot(seg[:, 0], seg[:, 1])
    starts = np.concatenate([[0.0], np.cumsum(lengths)])
    total = max(float(starts[-1]), 1e-6)
    unit = seg / np.maximum(lengths, 1e-9)[:, None]  # a point's segment (zero length): no direction
    rel = line[:-1] - line[0]
    ux, uy = unit[:, :1].astype(np.float32), unit[:, 1:].astype(np.float32)  # (K, 1)
    on = (rel * unit).sum(1, keepdims=True).astype(np.float32)  # each segment's start along and across itself
    off = (rel[:, 1:] * unit[:, :1] - rel[:, :1] * unit[:, 1:]).astype(np.float32)
    px = (np.asarray(gx, np.float64) - line[0, 0]).astype(np.float32).reshape(1, -1)
    py = (np.asarray(gy, np.float64) - line[0, 1]).astype(np.float32).reshape(1, -1)
    along = px * ux + py * uy - on  # (K, N): from each segment's start, along it
    across = py * ux - px * uy - off  # > 0 on the right of its direction as seen in the image (y down)
    t = np.clip(along, 0.0, lengths.astype(np.float32)[:, None])
    gap = along - t
    d2 = across * across + gap * gap
    k = np.argmin(d2, axis=0)[None]
    d = np.sqrt(np.take_along_axis(d2, k, 0)[0])
    signed = np.where(np.take_along_axis(across, k, 0)[0] >= 0, d, -d)
    share = (starts[:-1].astype(np.float32)[k[0]] + np.take_along_axis(t, k, 0)[0]) / np.float32(total)
    shape = np.shape(gx)
    return d.reshape(shape), signed.reshape(shape), share.reshape(shape)


def _stroke_reach(gx: np.ndarray, gy: np.ndarray, line: np.ndarray, reach: float) -> np.ndarray:
    """Which pixels (``gx``, ``gy``) a crease along ``line`` can shade, ``reach`` pixels out: those within ``reach``
    of the strip along its chord that holds the whole line, and not behind either end (:func:`_end_margin`), where
    :func:`_stroke_frame`'s nearest point is that end, whose :func:`_taper` is 0."""
    chord = line[-1] - line[0]
    normal = np.array([-chord[1], chord[0]]) / max(float(np.hypot(*chord)), 1e-9)
    side = (line - line[0]) @ normal
    across = (gx - line[0, 0]) * normal[0] + (gy - line[0, 1]) * normal[1]
    inside = (across >= side.min() - reach) & (across <= side.max() + reach)
    for ends in (line, line[::-1]):
        margin = _end_margin(ends, reach)
        if margin is not None:
            out = ends[1] - ends[0]
            out = out / float(np.hypot(*out))
            inside &= (gx - ends[0, 0]) * out[0] + (gy - ends[0, 1]) * out[1] > -margin
    return inside


def _end_margin(line: np.ndarray, reach: float) -> float | None:
    """How far behind ``line``'s first point (along its first segment) a pixel may still lie nearer than ``reach`` to
    a point past that end: 0 for a straight line; ``None`` when its first segment has no direction.

    A pixel ``s`` out from a point ``q`` of the line along its normal ``m`` there lies ``(q - a) . d + s m . d`` along
    the first segment's direction ``d`` from its first point ``a``, at ``s >= reach`` unless that is above minus the
    margin, taken per point with the largest ``|m . d|`` of its segments (1 where the line turns across ``d``'s
    normal)."""
    seg = np.diff(line, axis=0)
    lengths = np.hypot(seg[:, 0], seg[:, 1])
    if lengths[0] < 1e-6:
        return None
    unit = seg / np.maximum(lengths, 1e-9)[:, None]
    d = unit[0]
    cos = unit @ d
    sin = np.abs(unit[:, 0] * d[1] - unit[:, 1] * d[0])  # |m . d| on each segment
    tilt = np.maximum(sin, np.r_[sin[1:], 0.0])  # at each point after the first: its segments before and after
    tilt[:-1] = np.where((cos[:-1] > 0) != (cos[1:] > 0), 1.0, tilt[:-1])
    ahead = (line[1:] - line[0]) @ d
    return max(0.0, float(np.max(reach * tilt - ahead)))


def _taper(share: np.ndarray, peak: float) -> np.ndarray:
    """0 at a crease's ends, 1 at ``peak`` (share of its length): a fold fades out, a drawn line stops."""
    rise = np.clip(share / max(peak, 1e-3), 0.0, 1.0)
    fall = np.clip((1.0 - share) / max(1.0 - peak, 1e-3), 0.0, 1.0)
    return np.sin(0.5 * np.pi * np.minimum(rise, fall))


def _skin_grain(luma: np.ndarray, under: np.ndarray, sigma: float) -> float:
    """How crisp and contrasted the skin ``under`` a crease is against a sharp studio photo's, 0..1: the spread (MAD)
    of its luma's detail finer than ``sigma`` pixels (a crease's narrow valley) as a share of its median luma, per
    ``_GRAIN_SHARP``; 1 where there is no grain to measure (under ``_GRAIN_NONE`` grey levels: a flat canvas)."""
    if under.sum() < 16:
        return 1.0
    detail = (luma - gaussian(luma, sigma))[under]
    spread = 1.4826 * float(np.median(np.abs(detail - np.median(detail))))
    if spread < _GRAIN_NONE:
        return 1.0
    return float(np.clip(spread / max(float(np.median(luma[under])), 1.0) / _GRAIN_SHARP, 0.0, 1.0))


def _frame_pixels(image: np.ndarray, dst: np.ndarray, box: tuple[int, int, int, int]) -> np.ndarray:
    """Where a glasses frame covers the ``box`` (x0, y0, x1, y1) of ``image`` of a face that wears glasses, 0..1
    (its soft edge included): the dark lines thinner than a quarter eye (the frame finder's
    :func:`~facecraft.synth.glasses_frame.line_response` over ``FRAME_LINE``), closed over their gaps and
    ``_FRAME_EDGE`` pixels wider."""
    import cv2

    from .lids import EYES, eye_frame

    x0, y0, x1, y1 = box
    eye_w = float(np.mean([eye_frame(dst, up, lo).width for up, lo in EYES]))
    grey = cv2.cvtColor(np.ascontiguousarray(image[y0:y1, x0:x1]), cv2.COLOR_RGB2GRAY).astype(np.float32)
    lines = (line_response(grey, eye_w) > FRAME_LINE).astype(np.uint8)
    k3 = np.ones((3, 3), np.uint8)
    lines = cv2.dilate(cv2.morphologyEx(lines, cv2.MORPH_CLOSE, k3), k3, iterations=_FRAME_EDGE)
    return np.clip(gaussian(lines.astype(np.float32), 0.7) * 2.0, 0.0, 1.0)


def paint_creases(
    image: np.ndarray, dst: np.ndarray, rig_change: np.ndarray, *, look: PhotoLook | None = None
) -> np.ndarray:
    """``image`` with the skin creases of lowered brows, a wrinkled nose and raised cheeks shaded in
    (:func:`_crease_strokes`).

    A crease is a fold of the photo's own skin, not a line drawn on it: a narrow valley (width ``_CREASE_SIGMA[0]`` of
    the face) in a softer one (``_CREASE_SIGMA[1]``) that spreads to the fold's shadowed side only, each blurred further
    as much as the photo itself is (:func:`photo_blur`), with the bulge on its lit side lifted (its ``relief`` of the
    darkening, where it outweighs another crease's valley) and tapering from its deepest point to nothing at both ends;
    it deepens over the photo's darker pores and less over its highlights (``_CREASE_TEXTURE``), and darkens more in
    the channels the skin holds less of (per channel, from the photo's own skin colour, ``_CREASE_WARM``), so a warm
    skin's fold is warm, not grey. Each
    crease's darkening at its deepest is its share on a sharp photo's skin, less on skin with less fine grain
    (:func:`_skin_grain`: a blurred crop's fine lines soft and faint, its valleys kept); ``image`` itself when the edit
    makes none.

    Parameters
    ----------
    image : np.ndarray
        ``(H, W, 3)`` uint8, the warped photo.
    dst : np.ndarray
        ``(468, 2)`` pixel positions of the edited mesh points.
    rig_change : np.ndarray
        ``(52,)`` the edit's rig weight change.
    look : PhotoLook, optional
        The edited photo's look: whether the face wears glasses is measured once there
        (:attr:`~facecraft.synth.photo_look.PhotoLook.wears_glasses`); without it, on ``image``.
    """
    import cv2

    from facecraft.eval.eyewear import wears_glasses

    from .warp import face_width

    fw = face_width(dst)
    light = _light_across(image, dst)
    strokes = _crease_strokes(dst, rig_change, fw, light)
    if not strokes:
        return image
    glasses = wears_glasses(image, dst) if look is None else look.wears_glasses
    if glasses:  # a frame in front: no crease on it (``_FRAME_EDGE``)
        strokes = _crease_strokes(dst, rig_change, fw, light, glasses=True)
    blur = photo_blur(image, dst)
    sigma = float(np.hypot(_CREASE_SIGMA[0] * fw, blur))
    soft_sigma = float(np.hypot(_CREASE_SIGMA[1] * fw, blur))
    h, w = image.shape[:2]
    pts = np.concatenate([s[0] for s in strokes])
    pad = 3 * soft_sigma * max(s[4] for s in strokes) + 3
    x0, y0 = np.maximum(np.floor(pts.min(0) - pad).astype(int), 0)
    x1, y1 = np.minimum(np.ceil(pts.max(0) + pad).astype(int) + 1, (w, h))
    if x1 - x0 < 2 or y1 - y0 < 2:
        return image
    # The strokes are smooth at their narrowest sigma: on a big photo they are shaded on a grid ``step`` pixels apart
    # (its samples at the centres of the full-size blocks they stand for) and enlarged bilinearly.
    step = max(1, int(sigma // _CREASE_GRID))
    size = (-(-(x1 - x0) // step), -(-(y1 - y0) // step))
    shade = np.zeros(size[::-1], np.float32)  # the soft valleys
    fine = np.zeros_like(shade)  # the fine lines
    light = np.zeros_like(shade)
    at = (step - 1) / 2.0
    xs, ys = x0 + at + step * np.arange(size[0]), y0 + at + step * np.arange(size[1])
    for line, dark, peak, lit, width, relief, core_width, line_share, line_depth in strokes:
        wide = soft_sigma * width
        narrow = float(np.hypot(_CREASE_SIGMA[0] * fw * core_width, blur))
        near = _CREASE_REACH * wide + step  # a brow furrow is short; the region spans all the strokes
        lo = np.clip(np.floor((line.min(0) - near - (x0, y0) - at) / step).astype(int), 0, size)
        hi = np.clip(np.ceil((line.max(0) + near - (x0, y0) - at) / step).astype(int) + 1, 0, size)
        gx, gy = np.meshgrid(xs[lo[0] : hi[0]], ys[lo[1] : hi[1]])
        inside = _stroke_reach(gx, gy, line, near)
        dist, signed, share = _stroke_frame(gx[inside], gy[inside], line)
        along = dark * _taper(share, peak)
        core = np.exp(-0.5 * (dist / narrow) ** 2)
        line_core = _CREASE_CORE * line_depth
        if line_share < 1.0:  # the fine line only over ``line_share`` of the length about the deepest point
            short = _taper(np.clip(peak + (share - peak) / line_share, 0.0, 1.0), peak)  # never above the taper
            line_core = line_core * short / np.maximum(_taper(share, peak), 1e-6)
        # the valley's soft wall spreads to its shadowed side, and by ``1 - |lit|`` to its lit side too
        valley = np.exp(-0.5 * (dist / wide) ** 2)
        soft = valley if not lit else np.where(signed * lit <= 0, valley, (1.0 - abs(lit)) * valley + abs(lit) * core)
        box = (slice(lo[1], hi[1]), slice(lo[0], hi[0]))
        shade[box][inside] += along * (1.0 - _CREASE_CORE) * soft
        fine[box][inside] += along * line_core * core
        if lit:  # the lit wall and bulge beside the valley
            out = signed * np.sign(lit)  # toward the lit side
            bulge = np.exp(-0.5 * ((out - 1.5 * wide) / wide) ** 2) * (out > 0)
            light[box][inside] += relief * abs(lit) * along * bulge
    if step > 1:
        size = (x1 - x0, y1 - y0)
        shade, fine, light = (cv2.resize(a, size, interpolation=cv2.INTER_LINEAR) for a in (shade, fine, light))
    region = image[y0:y1, x0:x1].astype(np.float32)
    luma = _luma(region)
    # As crisp as the photo's own skin there (``_GRAIN_SHARP``): on smooth skin the fine lines soft and faint.
    frame = _frame_pixels(image, dst, (x0, y0, x1, y1)) if glasses else None  # no crease on it, no skin grain
    on_skin = shade + fine > 0.05
    if frame is not None:
        on_skin &= gaussian(frame, _FRAME_GRAIN * sigma) < 0.05
    crisp = _skin_grain(luma, on_skin, _CREASE_SIGMA[0] * fw)
    if crisp < 1.0:  # the fine lines as soft as the skin: wider by 1 / crisp (up to the valleys' width), as faint
        fine = gaussian(fine, float(np.sqrt(max(min(sigma / max(crisp, 1e-3), soft_sigma) ** 2 - sigma**2, 0.0))))
        fine = fine * crisp
    shade = shade + fine
    detail = luma - wide_blur(luma, 2.0 * sigma)
    spread = float(np.std(detail)) + 1e-3
    texture = 1.0 + _CREASE_TEXTURE * np.clip(-detail / (2.0 * spread), -1.0, 1.0)  # deeper over darker pores
    deep = np.clip(shade, 0.0, 0.9) * texture
    # Skin darkens warmer than grey (light scattered under it comes back reddened): per channel, by the skin's own
    # colour there (median under the creases) against its luma, to the power ``_CREASE_WARM``.
    under = region[np.abs(shade) > 0.05]
    skin = np.median(under, axis=0) if len(under) >= 4 else np.median(region.reshape(-1, 3), axis=0)
    tint = (float(_luma(skin)) / np.maximum(skin, 1.0)) ** _CREASE_WARM
    tint = np.clip(tint / max(float(_luma(tint)), 1e-3), 0.5, 1.5).astype(np.float32)
    factor = 1.0 - np.clip(deep[..., None] * tint[None, None, :], 0.0, 0.95)
    # Toward the photo's white, less on already bright skin: 255, or less in an underexposed photo (its cheeks' skin).
    white = 255.0 * exposure(float(_luma(face_colours(image, dst)[0])))
    # A bulge lifts the skin beside a valley, not another crease's valley (two furrows' bulges crossed onto each other).
    lifted = np.clip(light - shade, 0.0, 0.3)[..., None] * np.maximum(white - region, 0.0)
    if frame is not None:
        factor = 1.0 - (1.0 - factor) * (1.0 - frame[..., None])
        lifted = lifted * (1.0 - frame[..., None])
    out = image.copy()
    out[y0:y1, x0:x1] = np.clip(region * factor + lifted + 0.5, 0, 255).astype(np.uint8)
    return out
