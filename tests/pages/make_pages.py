#!/usr/bin/python3
"""Synthetic test pages with known text, for tests/test_ocr_pages.c.

Usage: /usr/bin/python3 tests/pages/make_pages.py OUTDIR

Writes into OUTDIR, deterministically (the same bytes on every run):

  clean_g4.tif     (a) 2-page CCITT G4 TIFF, 300 dpi tag, DejaVu Serif 11 pt
  grey8.png        (b) 8-bit grey PNG, Liberation Serif 12 pt
  rgb.jpg          (c) RGB JPEG, quality 90, on a cream background
  grey16.png       (d) 16-bit grey PNG (levels that are not v * 257, so a
                       decoder that keeps the low byte reads noise)
  upside_down.png  (e2) 8-bit grey page turned 180 degrees
  rotated.png      (e) 8-bit grey page turned 90 degrees clockwise (fed
                       sideways); its GT is the upright text
  twocol.png       (f) two columns with aligned baselines
  table.png        (g) prose, then a 5-column table, then a note
  quotes.png       (h) dialogue: curly double and single quotation marks
                       and apostrophes, Liberation Serif 12 pt
  <stem>.txt       GT for each: UTF-8, one line per printed line, reading
                   order; the TIFF's two pages are separated by a form feed
  twocol.order     two lines: column 1's last line, column 2's first line
  table.rows       the table's rows (header first), cells joined by one space
  MANIFEST.tsv     stem, file, pages, description

Pages are A4 at 300 dpi (2480 x 3508). Text is drawn with OpenCV's FreeType
module (anti-aliased); the TIFF is thresholded at 50% and encoded by
ImageMagick's `convert -compress Group4`. Every line is measured before it is
placed, and the drawn page is checked: no ink outside the text area, none
in the column gutter or between table columns, so a GT line is always the
printed line.
"""
import os
import subprocess
import sys
import tempfile

import cv2
import numpy as np

FONTS = {
    'dejavu': '/usr/share/fonts/truetype/dejavu/DejaVuSerif.ttf',
    'dejavu-bold': '/usr/share/fonts/truetype/dejavu/DejaVuSerif-Bold.ttf',
    'liberation': '/usr/share/fonts/truetype/liberation2/LiberationSerif-Regular.ttf',
    'liberation-bold': '/usr/share/fonts/truetype/liberation2/LiberationSerif-Bold.ttf',
}
W, H = 2480, 3508  # A4 at 300 dpi
MARGIN_X, MARGIN_TOP = 300, 330
DPI = 300


def px(points):
    return int(round(points * DPI / 72.0))


# ---- text (written for these tests; no source) ----

CANAL = [
    "The Marley Bottom Canal",
    "When the first barge came up the new cut in April 1794, the whole village "
    "walked down to the lower lock to see it. It carried coal, 22 tons of it, "
    "and a crate of oranges that nobody had ordered. The lock-keeper, a patient "
    "man named Josiah Crane, wrote in his ledger: \"Boat passed at 6:40; water "
    "low; oranges (?) left on the wharf.\" The oranges were sold the next "
    "morning for 3 pence a dozen, and the money went to the church roof.",
    "For the next forty years the canal was the busiest road in the county. "
    "Grain went down to the river; slate, lime and timber came up. A horse "
    "could pull fifty times what it could drag on the turnpike, and the "
    "company paid its shareholders 9 per cent in a good year. There were "
    "quarrels, of course: the millers said the locks stole their water, and "
    "the farmers said the towpath let strangers into their fields.",
    "Crane kept the ledger until 1831. His entries are short and practical, "
    "but now and then he lets something else through. \"A heron took the last "
    "of the perch,\" he writes in May 1809; \"I did not grudge it.\" In the "
    "hard winter of 1814 the cut froze for nine weeks, and he records that "
    "boys skated from the top lock to the aqueduct, a distance of 4 miles, "
    "in less than half an hour. Was he one of them? He does not say.",
    "Life on the boats was hard and, for the children, short on schooling. "
    "A family of five might live in a cabin ten feet long, with a stove, a "
    "bench that became a bed, and a cupboard painted with roses and castles. "
    "The boy led the horse; the girl worked the paddles at the locks; the "
    "mother steered, and the father loaded, unloaded and argued about "
    "tolls. A visiting inspector in 1840 counted 61 children on the boats "
    "moored at the basin, and found that only 9 of them could read.",
    "The railway reached Marley in 1846. Within ten years the tolls had "
    "fallen by two thirds, and the company sold the upper reach to the "
    "railway for 11,500 pounds, which was less than it had cost to dig.",
]

LIGHTHOUSE = [
    "The Keeper's Log, Gull Point",
    "The light at Gull Point was first lit on the evening of 3 November 1859. "
    "Its lamp burned colza oil, about a pint an hour, and the lens, made in "
    "Paris, threw the beam eighteen miles on a clear night. The keeper and "
    "his assistant worked in watches of four hours; one trimmed the wicks "
    "while the other slept, cooked or painted whatever the salt had eaten.",
    "Their log survives in three bound volumes. Most entries record the "
    "weather, the ships that passed, and the oil used: \"Wind SW, fresh; "
    "barometer 29.8; two schooners and a steamer bound north; 7 pints.\" "
    "Some record visitors. A school party came out in the summer of 1872 and "
    "asked, the keeper writes, \"more questions than the Board of Trade.\"",
    "Storms are written up at length. On the night of 14 January 1881 the "
    "spray reached the gallery, 96 feet above the sea, and put out two of "
    "the lamps; the keepers relit them by hand, one holding the other's "
    "belt. Why did they not simply wait for the wind to drop? Because, the "
    "log answers, \"a ship does not wait, and neither may we.\"",
    "Supplies came by boat once a fortnight, weather permitting: oil in "
    "sealed drums, flour, tea, candles, tobacco and the post. When the boat "
    "could not land, which happened most winters, the keepers lived on "
    "salt beef and ship's biscuit, and the log grows terse. \"No boat. No "
    "letters. Biscuit again.\" In March 1891 they went 37 days without a "
    "landing, and the assistant, a young man from Leith, began to keep "
    "hens in the oil store so that there would at least be eggs.",
    "The station was made automatic in 1957. The last keeper, Ellen Marsh, "
    "had served there for 23 years; she left the log open on the desk, "
    "with one final line: \"Light burning; all well; key under the mat.\"",
]

SURVEYOR = [
    "Letter from the Survey Camp",
    "Dear Margaret, we reached the head of the valley on Tuesday, a day "
    "later than planned, because the bridge at Hollins Ford had been washed "
    "out and we had to carry the theodolite, the chains and two weeks of "
    "flour across on our backs. Nobody fell in, though Peters came close.",
    "The work goes well. We have fixed the base line, 1,208 yards long, on "
    "the flat ground below the old quarry, and measured it twice; the two "
    "results differ by less than an inch, which pleased Mr. Hale more than "
    "anything has pleased him since we left. From the base we have carried "
    "the triangles up the valley as far as the second waterfall.",
    "The weather is the enemy. It rains most afternoons (we stop at 3 o'clock "
    "whatever the sky looks like), and the mist comes down without warning. "
    "On Friday it caught Peters and me on the ridge; we sat under a rock for "
    "two hours, eating raisins and arguing about whether the mist was "
    "thicker to the north or the south. Neither of us could see to tell.",
    "Mr. Hale has a theory that the old maps are wrong by half a mile in "
    "the placing of the church at Kettleby, and he may be right: our "
    "bearings from three stations all put the tower well to the east of "
    "where the county map draws it. He intends to write to the Society "
    "about it, and I think he is already composing the letter in his head, "
    "because he hums while he walks, which he does only when he is happy.",
    "You asked what the country is like. It is bare and very beautiful: "
    "long grass, grey stone, and more sheep than I knew the world held. "
    "Please send socks, a pencil sharpener and the newspaper, in that "
    "order. I expect to be home by the 20th, or the 27th at the latest.",
    "P.S. Tell Father that the barometer he lent us has survived two river "
    "crossings and a fall from the mule, and still reads 28.9 inches, which "
    "is either correct or very loyal; we cannot decide which.",
    "Your loving brother, Thomas",
]

BREAD = [
    "Notes on Bread, from a Baker's Day Book",
    "The dough for the morning bake is mixed at 10 in the evening: 28 pounds "
    "of flour, 17 pints of water, 6 ounces of salt and a pound of the old "
    "dough kept back from the day before. It rises slowly in the cool room "
    "until 4 o'clock, when the fire in the oven has burned down to embers "
    "and the bricks are hot enough to brown a handful of flour in a minute.",
    "Weighing is done by hand, loaf by loaf, on the brass scale. A two-pound "
    "loaf must weigh two pounds when it is sold, not when it goes in, so the "
    "dough is cut at 2 pounds 4 ounces; the oven takes the rest. Customers "
    "notice a light loaf long before they notice a good one.",
    "Why does the bread rise better in March than in August? The old baker "
    "said it was the flour, which is drier in spring; his son says it is "
    "the yeast, which tires in the heat. They are both partly right, and "
    "they have argued about it every summer for eleven years.",
    "Fuel is the largest cost after flour. The oven burns faggots of hazel "
    "and thorn, bought by the hundred from the woodman at Ashcombe, and a "
    "hundred lasts a little under three weeks. In a wet winter the wood "
    "comes in damp and the oven is slow to heat; then the baker rises at 2 "
    "instead of 3, and the whole household hears about it at breakfast.",
    "Flour is bought from the mill at Coldharbour in sacks of 280 pounds, "
    "paid for on the first Monday of each month. The miller's carter stays "
    "for a cup of tea and the news, and the baker's wife, who keeps the "
    "accounts, checks every sack against the note before she will sign.",
    "On Saturdays the shop also sells buns (a penny each, or 13 for a "
    "shilling), seed cake, and a plain fruit loaf that the carters buy for "
    "their dinners. The last tray is out by half past seven; by nine the "
    "shelves are empty, the floor is swept, and the baker is asleep.",
]

WEATHER = [
    "A Weather Diary, Kept at Fenwick Farm",
    "March 2. Hard frost at dawn, 24 degrees by the thermometer on the barn "
    "door. Clear and still until noon; then cloud from the west and a thin "
    "rain that froze where it fell. The lane was like glass by evening, and "
    "the carrier did not come. Ewes brought into the lower shed.",
    "March 9. Mild at last. Wind south-west, moderate; 47 degrees at two in "
    "the afternoon. The rooks have started building in the elms behind the "
    "church, which my father always said meant an early spring. We shall "
    "see. Ploughed the long field as far as the ash tree.",
    "March 15. Rain all day, 1.3 inches in the gauge by nightfall, the most "
    "in a single day since October. The brook is over the footbridge and "
    "the ducks are delighted; nobody else is. Mended harness; read the "
    "almanac, which promises \"settled weather\" for the week ahead.",
    "March 21. The almanac was wrong. Snow overnight, three inches on the "
    "level and drifts of two feet against the hedges. Lambs are all well, "
    "thanks to the shed. Is there a year when March behaves itself? I have "
    "kept this diary for 31 years and have not yet found one.",
    "March 24. Thaw. Water everywhere, the yard a pond and the lane a "
    "river. Sold the two bullocks at Whitford market for 38 pounds the "
    "pair, a better price than I had hoped; the dealer said the spring "
    "grass would be late and the butchers would pay for fat beasts now. "
    "Came home by the top road to keep out of the floods; the mare did "
    "not like it and nor did I. Wind veered north at dusk.",
    "March 26. Dry and bright, with a cold wind off the hill. Walked the "
    "hedges with young Tom to see what the snow had broken: a gate on the "
    "top field, two rails by the pond, and the old pear tree, which has "
    "lost its biggest branch at last. We will have the wood for the fire.",
    "March 28. Warm sunshine; the snow is gone except under the north wall. "
    "Sowed oats in the top field (4 bushels) and saw the first swallow.",
    "March 31. Rain in the night, soft and warm. Paid the smith 7 shillings "
    "for shoeing the mare and mending the harrow; he asked after the pear "
    "tree, and I told him it would see another spring, but not two.",
]

DIALOGUE = [
    "The Ferry at Holt Reach",
    "\u201cYou\u2019ll not cross tonight,\u201d the ferryman said, and he "
    "pointed at the river. \u201cThe water\u2019s too high, and it\u2019s "
    "still rising.\u201d The carter looked at his load of 14 barrels and "
    "then at the sky. \u201cWe crossed in worse than this in \u201982,\u201d "
    "he said. \u201cThat was a summer flood; this one isn\u2019t.\u201d",
    "They waited at the inn. The landlord\u2019s wife brought bread and "
    "cheese and said that the \u2018old bridge\u2019 had stood there until "
    "her grandfather\u2019s time. \u201cHe used to say the river takes one "
    "thing every winter,\u201d she told them. \u201cA boat, a fence, a "
    "sheep. It\u2019s never taken a man, and I don\u2019t mean it to start "
    "with you.\u201d",
    "By morning the level had dropped 3 feet. The ferryman came to the door "
    "at six. \u201cNow,\u201d he said, \u201cif you\u2019re still "
    "minded to go.\u201d The carter was. The barrels went over two at a "
    "time, and the horse swam behind on a long rope, complaining the whole way.",
]

RAILWAY = [
    "The Branch Line to Eastwick",
    "The branch line left the main line at Carrow Junction and ran for 12 "
    "miles through orchards and hop gardens to the small market town of "
    "Eastwick. It opened in June 1868 with four trains each way on weekdays "
    "and two on Sundays; the fare for the whole journey was 9 pence, third "
    "class, and the run took thirty-eight minutes, stops included.",
    "There were three stations on the way: Hatherden, Pell Green and Upper "
    "Stoke. Pell Green had no village at all, only a farm and a chapel, "
    "but the landowner had given the railway its land on condition that "
    "every train should stop there, and every train did, for ninety years.",
    "In the autumn the line came into its own. Special trains carried the "
    "hop pickers down from the city, whole families with their bedding and "
    "kettles, and took the pockets of dried hops back again; on a busy "
    "Saturday in September 1911 the station master counted 2,340 tickets. "
    "Where did they all sleep? In huts, barns and tents, and some, it is "
    "said, in the empty carriages in the siding at Upper Stoke.",
    "The line's one accident happened in the fog of December 1903, when "
    "a goods train ran past the signal at Hatherden and pushed a cattle "
    "wagon through the buffers and into the station garden. Nobody was "
    "hurt. The cow inside, it is recorded, stepped out onto the flower "
    "beds, ate a row of winter cabbages, and was led home by a porter, "
    "who was given a day's pay and, by the farmer, a pound of butter.",
    "The passenger service ended on 4 October 1958. The last train was "
    "full; the driver sounded the whistle at every crossing, and people "
    "stood in their gardens to wave. Goods trains ran until 1963, when the "
    "track was lifted and the line became a footpath, which it still is.",
]

CLOCKS = [
    "On the Keeping of Time",
    "For most of history, nobody needed to know the time to the minute. "
    "The sun rose and set, the church bell rang for service, and a market "
    "opened when enough people had arrived to make it worth opening. Noon "
    "in one town was a few minutes different from noon in the next, and "
    "it did not matter, because nobody could travel fast enough to notice.",
    "The railways changed that. A timetable is a promise, and a promise "
    "needs a common clock. In 1847 most British railway companies agreed "
    "to keep London time, which was about 10 minutes ahead of the time in "
    "Bristol and 20 ahead of Plymouth. For some years the clock on Bristol's "
    "exchange had two minute hands, one for local time and one for the "
    "trains. Which one was correct? Both, said the merchants; neither, "
    "said the passengers who had just missed the 8:15.",
    "The telegraph finished the work. By the 1850s a signal sent from the "
    "observatory at Greenwich could set clocks across the country once a "
    "day, and the time ball on the roof, dropped at exactly 1 p.m., let "
    "ships in the river check their chronometers before they sailed. A "
    "navigator who was four seconds wrong would be a mile out of position "
    "at the equator; a ship could be lost for less than that.",
    "Not everyone approved. A letter to a provincial paper in 1852 "
    "complained that the railway had \"stolen twenty minutes from every "
    "man in the west country\" and asked whether they would be given back. "
    "The town council of one cathedral city refused for years to alter "
    "its clock, and the dean is said to have preached that the sun, not "
    "the railway company, was appointed to rule the day. But the trains "
    "ran by London time whatever the sun did, and in 1880 Parliament made "
    "Greenwich time the legal time for the whole of Great Britain.",
    "Today the time arrives by radio and satellite, accurate to a millionth "
    "of a second, and most of us never think about it. Yet the old habits "
    "survive. We still speak of a train being \"on time\", as if time were "
    "a track laid down in advance, and the station clock, large and plain, "
    "is still the one we trust when we are late.",
]

TABLE_INTRO = [
    "Hardware Order, Pellow & Sons, March 1911",
    "The order below was sent to the foundry at Derwent on 14 March and "
    "delivered, complete, eleven days later. Prices are in shillings; the "
    "totals were checked by the clerk and initialled.",
]
TABLE_ROWS = [
    ["Item", "Code", "Qty", "Price", "Total"],
    ["Brass hinges", "BH-204", "12", "3.40", "40.80"],
    ["Iron brackets", "IB-118", "30", "1.25", "37.50"],
    ["Door bolts", "DB-077", "8", "2.15", "17.20"],
    ["Copper nails", "CN-503", "400", "0.05", "20.00"],
    ["Window catches", "WC-310", "16", "1.90", "30.40"],
    ["Lead flashing", "LF-942", "5", "6.75", "33.75"],
    ["Cast gutters", "CG-615", "9", "4.60", "41.40"],
    ["Stair rods", "SR-229", "24", "0.85", "20.40"],
]
TABLE_NOTE = [
    "Note: the lead flashing was short by one roll and was sent on 2 April; "
    "the foundry did not charge for the carriage.",
    "The clerk's total for the order, 241.45 shillings, agrees with the sum "
    "of the last column; the invoice was paid in full on 30 April.",
]


# ---- layout ----

class Font:
    def __init__(self, name, points):
        self.ft = cv2.freetype.createFreeType2()
        self.ft.loadFontData(FONTS[name], 0)
        self.size = px(points)

    def width(self, text):
        (w, _), _ = self.ft.getTextSize(text, self.size, -1)
        return w

    def draw(self, img, text, x, y):
        self.ft.putText(img, text, (int(x), int(y)), self.size, (0, 0, 0), -1,
                        cv2.LINE_AA, False)


def wrap(font, text, width, indent=0):
    """Greedy word wrap by measured width; never breaks inside a word, so no
    line ends with a hyphen that the text does not have."""
    lines, cur = [], ''
    for word in text.split():
        trial = word if not cur else cur + ' ' + word
        limit = width - (indent if not lines else 0)
        if cur and font.width(trial) > limit:
            lines.append(cur)
            cur = word
        else:
            cur = trial
    if cur:
        lines.append(cur)
    return lines


def blank():
    return np.full((H, W, 3), 255, np.uint8)


def set_block(img, title, paras, font, title_font, x0, width, y, pitch,
              indent):
    """Draws a title and paragraphs from y; returns (GT lines, next y)."""
    gt = []
    if title:
        title_font.draw(img, title, x0, y)
        gt.append(title)
        y += int(pitch * 1.9)
    for p in paras:
        for i, line in enumerate(wrap(font, p, width, indent)):
            font.draw(img, line, x0 + (indent if i == 0 else 0), y)
            gt.append(line)
            y += pitch
        y += pitch // 3
    return gt, y


def prose_page(section, fname, points, page_no):
    font = Font(fname, points)
    title_font = Font(fname + '-bold', points + 3)
    img = blank()
    pitch = int(font.size * 1.32)
    width = W - 2 * MARGIN_X
    gt, y = set_block(img, section[0], section[1:], font, title_font,
                      MARGIN_X, width, MARGIN_TOP, pitch, 50)
    folio = str(page_no)
    font.draw(img, folio, (W - font.width(folio)) // 2, H - 250)
    gt.append(folio)
    check_ink(img, [(0, 0, W, MARGIN_TOP - 80), (0, 0, MARGIN_X - 5, H),
                    (W - MARGIN_X + 5, 0, W, H)], fname)
    assert y < H - 400, 'page too long: %s' % section[0]
    return grey(img), gt


def twocol_page():
    font = Font('dejavu', 11)
    title_font = Font('dejavu-bold', 16)
    img = blank()
    pitch = int(font.size * 1.32)
    gutter = 110
    colw = (W - 2 * MARGIN_X - gutter) // 2
    title = CLOCKS[0]
    title_font.draw(img, title, (W - title_font.width(title)) // 2, MARGIN_TOP)
    top = MARGIN_TOP + 2 * pitch
    lines = []
    for p in CLOCKS[1:]:
        ls = wrap(font, p, colw, 40)
        lines += [(l, i == 0) for i, l in enumerate(ls)]
    # Column 1 takes the first half (rounded up); the lines share baselines,
    # as in print, which is what makes reading order hard.
    n1 = (len(lines) + 1) // 2
    cols = [lines[:n1], lines[n1:]]
    gt = [title]
    for c, col in enumerate(cols):
        x0 = MARGIN_X + c * (colw + gutter)
        for i, (l, first) in enumerate(col):
            font.draw(img, l, x0 + (40 if first else 0), top + i * pitch)
            gt.append(l)
    gx = MARGIN_X + colw
    check_ink(img, [(gx + 5, top - 10, gx + gutter - 5, H),
                    (0, 0, MARGIN_X - 5, H), (W - MARGIN_X + 5, 0, W, H)],
              'twocol')
    order = [cols[0][-1][0], cols[1][0][0]]
    # long enough to be found by an approximate search, and nowhere else
    assert all(len(o) >= 25 for o in order), order
    return grey(img), gt, order


def table_page():
    font = Font('liberation', 12)
    head_font = Font('liberation-bold', 12)
    title_font = Font('liberation-bold', 15)
    img = blank()
    pitch = int(font.size * 1.35)
    width = W - 2 * MARGIN_X
    gt, y = set_block(img, TABLE_INTRO[0], TABLE_INTRO[1:], font, title_font,
                      MARGIN_X, width, MARGIN_TOP, pitch, 0)
    y += pitch
    # Columns: text columns left-aligned, numbers right-aligned, 160 px gaps.
    ncol = len(TABLE_ROWS[0])
    numeric = [False, False, True, True, True]
    colw = [max((head_font if r is TABLE_ROWS[0] else font).width(r[c])
                for r in TABLE_ROWS) for c in range(ncol)]
    gap = 160
    xs = [MARGIN_X + 60]
    for c in range(1, ncol):
        xs.append(xs[-1] + colw[c - 1] + gap)
    rows_gt = []
    top = y
    for r, row in enumerate(TABLE_ROWS):
        f = head_font if r == 0 else font
        for c, cell in enumerate(row):
            x = xs[c] + (colw[c] - f.width(cell) if numeric[c] else 0)
            f.draw(img, cell, x, y)
        rows_gt.append(' '.join(row))
        y += pitch
        if r == 0:
            rule_y = y + 4
            y += pitch // 2
    gt += rows_gt
    check_ink(img, [(xs[c] + colw[c] + 5, top - 5, xs[c + 1] - 5, y - pitch // 2)
                    for c in range(ncol - 1)], 'table')
    # a rule under the header (drawn after the gap check)
    cv2.line(img, (xs[0] - 20, rule_y), (xs[-1] + colw[-1] + 20, rule_y),
             (0, 0, 0), 3)
    y += pitch
    more, y = set_block(img, None, TABLE_NOTE, font, None, MARGIN_X, width, y,
                        pitch, 0)
    gt += more
    return grey(img), gt, rows_gt


def check_ink(img, rects, what):
    """Fails if any rect (x0, y0, x1, y1) has ink."""
    for x0, y0, x1, y1 in rects:
        if (img[y0:y1, x0:x1] < 200).any():
            sys.exit('make_pages: %s: ink where none should be (%d,%d)-(%d,%d)'
                     % (what, x0, y0, x1, y1))


def grey(img):
    return cv2.cvtColor(img, cv2.COLOR_BGR2GRAY)


# ---- writers ----

def write_text(path, text):
    with open(path, 'w', encoding='utf-8', newline='\n') as f:
        f.write(text)


def write_gt(path, pages):
    write_text(path, '\f'.join('\n'.join(p) + '\n' for p in pages))


def write_g4_tiff(path, pages, tmp):
    names = []
    for i, g in enumerate(pages):
        n = os.path.join(tmp, 'p%d.pbm' % i)
        # PBM: 1 = black. Threshold the anti-aliased grey at 50%.
        cv2.imwrite(n, np.where(g < 128, 0, 255).astype(np.uint8))
        names.append(n)
    subprocess.run(['convert', '-units', 'PixelsPerInch', '-density', str(DPI)]
                   + names + ['-strip', '-compress', 'Group4', '-density',
                              str(DPI), '-define', 'tiff:rows-per-strip=64',
                              path], check=True)


def main():
    if len(sys.argv) != 2:
        sys.exit('usage: make_pages.py OUTDIR')
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    manifest = []

    with tempfile.TemporaryDirectory() as tmp:
        # (a) two-page G4 TIFF
        p1, gt1 = prose_page(CANAL, 'dejavu', 11, 17)
        p2, gt2 = prose_page(LIGHTHOUSE, 'dejavu', 11, 18)
        write_g4_tiff(os.path.join(out, 'clean_g4.tif'), [p1, p2], tmp)
        write_gt(os.path.join(out, 'clean_g4.txt'), [gt1, gt2])
        manifest.append(('clean_g4', 'clean_g4.tif', 2,
                         'CCITT G4, 2 pages, 300 dpi, DejaVu Serif 11 pt'))

    # (b) 8-bit grey PNG
    g, gt = prose_page(SURVEYOR, 'liberation', 12, 4)
    cv2.imwrite(os.path.join(out, 'grey8.png'), g)
    write_gt(os.path.join(out, 'grey8.txt'), [gt])
    manifest.append(('grey8', 'grey8.png', 1, '8-bit grey PNG, Liberation Serif 12 pt'))

    # (c) RGB JPEG on a cream background, faint deterministic noise
    g, gt = prose_page(BREAD, 'dejavu', 12, 112)
    ink = (255 - g.astype(np.float32)) / 255.0
    paper = np.array([214, 232, 242], np.float32)  # BGR: cream
    text = np.array([52, 38, 30], np.float32)      # BGR: brown-black
    rgb = paper * (1 - ink[..., None]) + text * ink[..., None]
    rng = np.random.default_rng(20240601)
    rgb += rng.normal(0, 3, rgb.shape).astype(np.float32)
    rgb = np.clip(np.round(rgb), 0, 255).astype(np.uint8)
    cv2.imwrite(os.path.join(out, 'rgb.jpg'), rgb, [cv2.IMWRITE_JPEG_QUALITY, 90])
    write_gt(os.path.join(out, 'rgb.txt'), [gt])
    manifest.append(('rgb', 'rgb.jpg', 1, 'RGB JPEG q90, cream background, DejaVu Serif 12 pt'))

    # (d) 16-bit grey PNG, paper at 61000 and ink at 6000 of 65535
    g, gt = prose_page(WEATHER, 'liberation', 12, 56)
    g16 = np.round(6000 + (g.astype(np.float64) / 255.0) * 55000).astype(np.uint16)
    cv2.imwrite(os.path.join(out, 'grey16.png'), g16)
    write_gt(os.path.join(out, 'grey16.txt'), [gt])
    manifest.append(('grey16', 'grey16.png', 1, '16-bit grey PNG, Liberation Serif 12 pt'))

    # (e) rotated 90 degrees clockwise
    g, gt = prose_page(RAILWAY, 'dejavu', 11, 203)
    cv2.imwrite(os.path.join(out, 'rotated.png'), cv2.rotate(g, cv2.ROTATE_90_CLOCKWISE))
    write_gt(os.path.join(out, 'rotated.txt'), [gt])
    manifest.append(('rotated', 'rotated.png', 1,
                     'grey PNG turned 90 degrees clockwise, DejaVu Serif 11 pt'))

    # (e2) upside down (a sheet fed the wrong way round)
    g, gt = prose_page(RAILWAY, 'liberation', 11, 307)
    cv2.imwrite(os.path.join(out, 'upside_down.png'), cv2.rotate(g, cv2.ROTATE_180))
    write_gt(os.path.join(out, 'upside_down.txt'), [gt])
    manifest.append(('upside_down', 'upside_down.png', 1,
                     'grey PNG turned 180 degrees, Liberation Serif 11 pt'))

    # (f) two columns
    g, gt, order = twocol_page()
    cv2.imwrite(os.path.join(out, 'twocol.png'), g)
    write_gt(os.path.join(out, 'twocol.txt'), [gt])
    write_text(os.path.join(out, 'twocol.order'), '\n'.join(order) + '\n')
    manifest.append(('twocol', 'twocol.png', 1, 'two columns, shared baselines, DejaVu Serif 11 pt'))

    # (g) table
    g, gt, rows = table_page()
    cv2.imwrite(os.path.join(out, 'table.png'), g)
    write_gt(os.path.join(out, 'table.txt'), [gt])
    write_text(os.path.join(out, 'table.rows'), '\n'.join(rows) + '\n')
    manifest.append(('table', 'table.png', 1, '5 x 9 table between prose, Liberation Serif 12 pt'))

    # (h) dialogue with curly quotation marks and apostrophes
    g, gt = prose_page(DIALOGUE, 'liberation', 12, 41)
    cv2.imwrite(os.path.join(out, 'quotes.png'), g)
    write_gt(os.path.join(out, 'quotes.txt'), [gt])
    manifest.append(('quotes', 'quotes.png', 1,
                     'dialogue with curly quotation marks, Liberation Serif 12 pt'))

    write_text(os.path.join(out, 'MANIFEST.tsv'),
               'stem\tfile\tpages\tdescription\n' +
               ''.join('%s\t%s\t%d\t%s\n' % m for m in manifest))


if __name__ == '__main__':
    main()
