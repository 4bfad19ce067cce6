"""What the platforms' own libraries know, for counting and faceting post texts.

Written by ``scripts/platform-data``: do not edit.  From npm's twitter-text 3.1.0, twemoji-parser 11.0.2, tlds 1.261.0
(pinned by package-lock.json) and the Python port of twitter-text (twitter-text-parser).
Each is its publisher's list (MIT licence), kept as data.
"""

# ruff: noqa: E501
# fmt: off

#: twemoji-parser's expression for one emoji, which twitter-text v3 counts as 2 however many
#: code points it has.  A JavaScript expression over UTF-16 code units (surrogate pairs).
X_EMOJI_UTF16 = (
    "(?:\\ud83d[\\udc68\\udc69])(?:\\ud83c[\\udffb-\\udfff])?\\u200d(?:\\u2695\\ufe0f|\\u2696\\ufe0f|\\u2"
    "708\\ufe0f|\\ud83c[\\udf3e\\udf73\\udf93\\udfa4\\udfa8\\udfeb\\udfed]|\\ud83d[\\udcbb\\udcbc\\udd27\\u"
    "dd2c\\ude80\\ude92]|\\ud83e[\\uddb0-\\uddb3])|(?:\\ud83c[\\udfcb\\udfcc]|\\ud83d[\\udd74\\udd75]|\\u"
    "26f9)((?:\\ud83c[\\udffb-\\udfff]|\\ufe0f)\\u200d[\\u2640\\u2642]\\ufe0f)|(?:\\ud83c[\\udfc3\\udfc4"
    "\\udfca]|\\ud83d[\\udc6e\\udc71\\udc73\\udc77\\udc81\\udc82\\udc86\\udc87\\ude45-\\ude47\\ude4b\\ude4d"
    "\\ude4e\\udea3\\udeb4-\\udeb6]|\\ud83e[\\udd26\\udd35\\udd37-\\udd39\\udd3d\\udd3e\\uddb8\\uddb9\\uddd"
    "6-\\udddd])(?:\\ud83c[\\udffb-\\udfff])?\\u200d[\\u2640\\u2642]\\ufe0f|(?:\\ud83d\\udc68\\u200d\\u27"
    "64\\ufe0f\\u200d\\ud83d\\udc8b\\u200d\\ud83d\\udc68|\\ud83d\\udc68\\u200d\\ud83d\\udc68\\u200d\\ud83d\\"
    "udc66\\u200d\\ud83d\\udc66|\\ud83d\\udc68\\u200d\\ud83d\\udc68\\u200d\\ud83d\\udc67\\u200d\\ud83d[\\ud"
    "c66\\udc67]|\\ud83d\\udc68\\u200d\\ud83d\\udc69\\u200d\\ud83d\\udc66\\u200d\\ud83d\\udc66|\\ud83d\\udc"
    "68\\u200d\\ud83d\\udc69\\u200d\\ud83d\\udc67\\u200d\\ud83d[\\udc66\\udc67]|\\ud83d\\udc69\\u200d\\u276"
    "4\\ufe0f\\u200d\\ud83d\\udc8b\\u200d\\ud83d[\\udc68\\udc69]|\\ud83d\\udc69\\u200d\\ud83d\\udc69\\u200d"
    "\\ud83d\\udc66\\u200d\\ud83d\\udc66|\\ud83d\\udc69\\u200d\\ud83d\\udc69\\u200d\\ud83d\\udc67\\u200d\\ud"
    "83d[\\udc66\\udc67]|\\ud83d\\udc68\\u200d\\u2764\\ufe0f\\u200d\\ud83d\\udc68|\\ud83d\\udc68\\u200d\\ud"
    "83d\\udc66\\u200d\\ud83d\\udc66|\\ud83d\\udc68\\u200d\\ud83d\\udc67\\u200d\\ud83d[\\udc66\\udc67]|\\ud"
    "83d\\udc68\\u200d\\ud83d\\udc68\\u200d\\ud83d[\\udc66\\udc67]|\\ud83d\\udc68\\u200d\\ud83d\\udc69\\u20"
    "0d\\ud83d[\\udc66\\udc67]|\\ud83d\\udc69\\u200d\\u2764\\ufe0f\\u200d\\ud83d[\\udc68\\udc69]|\\ud83d\\u"
    "dc69\\u200d\\ud83d\\udc66\\u200d\\ud83d\\udc66|\\ud83d\\udc69\\u200d\\ud83d\\udc67\\u200d\\ud83d[\\udc"
    "66\\udc67]|\\ud83d\\udc69\\u200d\\ud83d\\udc69\\u200d\\ud83d[\\udc66\\udc67]|\\ud83c\\udff3\\ufe0f\\u2"
    "00d\\ud83c\\udf08|\\ud83c\\udff4\\u200d\\u2620\\ufe0f|\\ud83d\\udc41\\u200d\\ud83d\\udde8|\\ud83d\\udc"
    "68\\u200d\\ud83d[\\udc66\\udc67]|\\ud83d\\udc69\\u200d\\ud83d[\\udc66\\udc67]|\\ud83d\\udc6f\\u200d\\u"
    "2640\\ufe0f|\\ud83d\\udc6f\\u200d\\u2642\\ufe0f|\\ud83e\\udd3c\\u200d\\u2640\\ufe0f|\\ud83e\\udd3c\\u2"
    "00d\\u2642\\ufe0f|\\ud83e\\uddde\\u200d\\u2640\\ufe0f|\\ud83e\\uddde\\u200d\\u2642\\ufe0f|\\ud83e\\udd"
    "df\\u200d\\u2640\\ufe0f|\\ud83e\\udddf\\u200d\\u2642\\ufe0f)|[#*0-9]\\ufe0f?\\u20e3|(?:[\u00a9\u00ae\\u2122\\u"
    "265f]\\ufe0f)|(?:\\ud83c[\\udc04\\udd70\\udd71\\udd7e\\udd7f\\ude02\\ude1a\\ude2f\\ude37\\udf21\\udf2"
    "4-\\udf2c\\udf36\\udf7d\\udf96\\udf97\\udf99-\\udf9b\\udf9e\\udf9f\\udfcd\\udfce\\udfd4-\\udfdf\\udff3"
    "\\udff5\\udff7]|\\ud83d[\\udc3f\\udc41\\udcfd\\udd49\\udd4a\\udd6f\\udd70\\udd73\\udd76-\\udd79\\udd87"
    "\\udd8a-\\udd8d\\udda5\\udda8\\uddb1\\uddb2\\uddbc\\uddc2-\\uddc4\\uddd1-\\uddd3\\udddc-\\uddde\\udde1"
    "\\udde3\\udde8\\uddef\\uddf3\\uddfa\\udecb\\udecd-\\udecf\\udee0-\\udee5\\udee9\\udef0\\udef3]|[\\u203"
    "c\\u2049\\u2139\\u2194-\\u2199\\u21a9\\u21aa\\u231a\\u231b\\u2328\\u23cf\\u23ed-\\u23ef\\u23f1\\u23f2\\"
    "u23f8-\\u23fa\\u24c2\\u25aa\\u25ab\\u25b6\\u25c0\\u25fb-\\u25fe\\u2600-\\u2604\\u260e\\u2611\\u2614\\u"
    "2615\\u2618\\u2620\\u2622\\u2623\\u2626\\u262a\\u262e\\u262f\\u2638-\\u263a\\u2640\\u2642\\u2648-\\u26"
    "53\\u2660\\u2663\\u2665\\u2666\\u2668\\u267b\\u267f\\u2692-\\u2697\\u2699\\u269b\\u269c\\u26a0\\u26a1\\"
    "u26aa\\u26ab\\u26b0\\u26b1\\u26bd\\u26be\\u26c4\\u26c5\\u26c8\\u26cf\\u26d1\\u26d3\\u26d4\\u26e9\\u26e"
    "a\\u26f0-\\u26f5\\u26f8\\u26fa\\u26fd\\u2702\\u2708\\u2709\\u270f\\u2712\\u2714\\u2716\\u271d\\u2721\\u"
    "2733\\u2734\\u2744\\u2747\\u2757\\u2763\\u2764\\u27a1\\u2934\\u2935\\u2b05-\\u2b07\\u2b1b\\u2b1c\\u2b5"
    "0\\u2b55\\u3030\\u303d\\u3297\\u3299])(?:\\ufe0f|(?!\\ufe0e))|(?:(?:\\ud83c[\\udfcb\\udfcc]|\\ud83d"
    "[\\udd74\\udd75\\udd90]|[\\u261d\\u26f7\\u26f9\\u270c\\u270d])(?:\\ufe0f|(?!\\ufe0e))|(?:\\ud83c[\\u"
    "df85\\udfc2-\\udfc4\\udfc7\\udfca]|\\ud83d[\\udc42\\udc43\\udc46-\\udc50\\udc66-\\udc69\\udc6e\\udc70"
    "-\\udc78\\udc7c\\udc81-\\udc83\\udc85-\\udc87\\udcaa\\udd7a\\udd95\\udd96\\ude45-\\ude47\\ude4b-\\ude4"
    "f\\udea3\\udeb4-\\udeb6\\udec0\\udecc]|\\ud83e[\\udd18-\\udd1c\\udd1e\\udd1f\\udd26\\udd30-\\udd39\\ud"
    "d3d\\udd3e\\uddb5\\uddb6\\uddb8\\uddb9\\uddd1-\\udddd]|[\\u270a\\u270b]))(?:\\ud83c[\\udffb-\\udfff]"
    ")?|(?:\\ud83c\\udff4\\udb40\\udc67\\udb40\\udc62\\udb40\\udc65\\udb40\\udc6e\\udb40\\udc67\\udb40\\udc"
    "7f|\\ud83c\\udff4\\udb40\\udc67\\udb40\\udc62\\udb40\\udc73\\udb40\\udc63\\udb40\\udc74\\udb40\\udc7f|"
    "\\ud83c\\udff4\\udb40\\udc67\\udb40\\udc62\\udb40\\udc77\\udb40\\udc6c\\udb40\\udc73\\udb40\\udc7f|\\ud"
    "83c\\udde6\\ud83c[\\udde8-\\uddec\\uddee\\uddf1\\uddf2\\uddf4\\uddf6-\\uddfa\\uddfc\\uddfd\\uddff]|\\u"
    "d83c\\udde7\\ud83c[\\udde6\\udde7\\udde9-\\uddef\\uddf1-\\uddf4\\uddf6-\\uddf9\\uddfb\\uddfc\\uddfe\\u"
    "ddff]|\\ud83c\\udde8\\ud83c[\\udde6\\udde8\\udde9\\uddeb-\\uddee\\uddf0-\\uddf5\\uddf7\\uddfa-\\uddff"
    "]|\\ud83c\\udde9\\ud83c[\\uddea\\uddec\\uddef\\uddf0\\uddf2\\uddf4\\uddff]|\\ud83c\\uddea\\ud83c[\\udd"
    "e6\\udde8\\uddea\\uddec\\udded\\uddf7-\\uddfa]|\\ud83c\\uddeb\\ud83c[\\uddee-\\uddf0\\uddf2\\uddf4\\ud"
    "df7]|\\ud83c\\uddec\\ud83c[\\udde6\\udde7\\udde9-\\uddee\\uddf1-\\uddf3\\uddf5-\\uddfa\\uddfc\\uddfe]"
    "|\\ud83c\\udded\\ud83c[\\uddf0\\uddf2\\uddf3\\uddf7\\uddf9\\uddfa]|\\ud83c\\uddee\\ud83c[\\udde8-\\udd"
    "ea\\uddf1-\\uddf4\\uddf6-\\uddf9]|\\ud83c\\uddef\\ud83c[\\uddea\\uddf2\\uddf4\\uddf5]|\\ud83c\\uddf0\\"
    "ud83c[\\uddea\\uddec-\\uddee\\uddf2\\uddf3\\uddf5\\uddf7\\uddfc\\uddfe\\uddff]|\\ud83c\\uddf1\\ud83c["
    "\\udde6-\\udde8\\uddee\\uddf0\\uddf7-\\uddfb\\uddfe]|\\ud83c\\uddf2\\ud83c[\\udde6\\udde8-\\udded\\udd"
    "f0-\\uddff]|\\ud83c\\uddf3\\ud83c[\\udde6\\udde8\\uddea-\\uddec\\uddee\\uddf1\\uddf4\\uddf5\\uddf7\\ud"
    "dfa\\uddff]|\\ud83c\\uddf4\\ud83c\\uddf2|\\ud83c\\uddf5\\ud83c[\\udde6\\uddea-\\udded\\uddf0-\\uddf3\\"
    "uddf7-\\uddf9\\uddfc\\uddfe]|\\ud83c\\uddf6\\ud83c\\udde6|\\ud83c\\uddf7\\ud83c[\\uddea\\uddf4\\uddf8"
    "\\uddfa\\uddfc]|\\ud83c\\uddf8\\ud83c[\\udde6-\\uddea\\uddec-\\uddf4\\uddf7-\\uddf9\\uddfb\\uddfd-\\ud"
    "dff]|\\ud83c\\uddf9\\ud83c[\\udde6\\udde8\\udde9\\uddeb-\\udded\\uddef-\\uddf4\\uddf7\\uddf9\\uddfb\\u"
    "ddfc\\uddff]|\\ud83c\\uddfa\\ud83c[\\udde6\\uddec\\uddf2\\uddf3\\uddf8\\uddfe\\uddff]|\\ud83c\\uddfb\\"
    "ud83c[\\udde6\\udde8\\uddea\\uddec\\uddee\\uddf3\\uddfa]|\\ud83c\\uddfc\\ud83c[\\uddeb\\uddf8]|\\ud83"
    "c\\uddfd\\ud83c\\uddf0|\\ud83c\\uddfe\\ud83c[\\uddea\\uddf9]|\\ud83c\\uddff\\ud83c[\\udde6\\uddf2\\udd"
    "fc]|\\ud83c[\\udccf\\udd8e\\udd91-\\udd9a\\udde6-\\uddff\\ude01\\ude32-\\ude36\\ude38-\\ude3a\\ude50\\"
    "ude51\\udf00-\\udf20\\udf2d-\\udf35\\udf37-\\udf7c\\udf7e-\\udf84\\udf86-\\udf93\\udfa0-\\udfc1\\udfc"
    "5\\udfc6\\udfc8\\udfc9\\udfcf-\\udfd3\\udfe0-\\udff0\\udff4\\udff8-\\udfff]|\\ud83d[\\udc00-\\udc3e\\u"
    "dc40\\udc44\\udc45\\udc51-\\udc65\\udc6a-\\udc6d\\udc6f\\udc79-\\udc7b\\udc7d-\\udc80\\udc84\\udc88-\\"
    "udca9\\udcab-\\udcfc\\udcff-\\udd3d\\udd4b-\\udd4e\\udd50-\\udd67\\udda4\\uddfb-\\ude44\\ude48-\\ude4"
    "a\\ude80-\\udea2\\udea4-\\udeb3\\udeb7-\\udebf\\udec1-\\udec5\\uded0-\\uded2\\udeeb\\udeec\\udef4-\\ud"
    "ef9]|\\ud83e[\\udd10-\\udd17\\udd1d\\udd20-\\udd25\\udd27-\\udd2f\\udd3a\\udd3c\\udd40-\\udd45\\udd47"
    "-\\udd70\\udd73-\\udd76\\udd7a\\udd7c-\\udda2\\uddb4\\uddb7\\uddc0-\\uddc2\\uddd0\\uddde-\\uddff]|[\\u"
    "23e9-\\u23ec\\u23f0\\u23f3\\u267e\\u26ce\\u2705\\u2728\\u274c\\u274e\\u2753-\\u2755\\u2795-\\u2797\\u2"
    "7b0\\u27bf\\ue50a])|\\ufe0f"
)

#: The top-level domains after which twitter-text links a domain, in the official library
#: and in its Python port both (a link counts 23, the same text written out more: a domain
#: only one of them links is counted as text).  Besides these, any ``xn--`` domain.
X_TLDS = frozenset(
    (
        "aaa", "aarp", "abarth", "abb", "abbott", "abbvie", "abc", "able", "abogado",
        "abudhabi", "ac", "academy", "accenture", "accountant", "accountants", "aco", "active",
        "actor", "ad", "adac", "ads", "adult", "ae", "aeg", "aero", "aetna", "af",
        "afamilycompany", "afl", "africa", "ag", "agakhan", "agency", "ai", "aig", "aigo",
        "airbus", "airforce", "airtel", "akdn", "al", "alfaromeo", "alibaba", "alipay",
        "allfinanz", "allstate", "ally", "alsace", "alstom", "am", "americanexpress",
        "americanfamily", "amex", "amfam", "amica", "amsterdam", "an", "analytics", "android",
        "anquan", "anz", "ao", "aol", "apartments", "app", "apple", "aq", "aquarelle", "ar",
        "arab", "aramco", "archi", "army", "arpa", "art", "arte", "as", "asda", "asia",
        "associates", "at", "athleta", "attorney", "au", "auction", "audi", "audible", "audio",
        "auspost", "author", "auto", "autos", "avianca", "aw", "aws", "ax", "axa", "az",
        "azure", "ba", "baby", "baidu", "banamex", "bananarepublic", "band", "bank", "bar",
        "barcelona", "barclaycard", "barclays", "barefoot", "bargains", "baseball",
        "basketball", "bauhaus", "bayern", "bb", "bbc", "bbt", "bbva", "bcg", "bcn", "bd",
        "be", "beats", "beauty", "beer", "bentley", "berlin", "best", "bestbuy", "bet", "bf",
        "bg", "bh", "bharti", "bi", "bible", "bid", "bike", "bing", "bingo", "bio", "biz",
        "bj", "bl", "black", "blackfriday", "blanco", "blockbuster", "blog", "bloomberg",
        "blue", "bm", "bms", "bmw", "bn", "bnl", "bnpparibas", "bo", "boats", "boehringer",
        "bofa", "bom", "bond", "boo", "book", "booking", "boots", "bosch", "bostik", "boston",
        "bot", "boutique", "box", "bq", "br", "bradesco", "bridgestone", "broadway", "broker",
        "brother", "brussels", "bs", "bt", "budapest", "bugatti", "build", "builders",
        "business", "buy", "buzz", "bv", "bw", "by", "bz", "bzh", "ca", "cab", "cafe", "cal",
        "call", "calvinklein", "cam", "camera", "camp", "cancerresearch", "canon", "capetown",
        "capital", "capitalone", "car", "caravan", "cards", "care", "career", "careers",
        "cars", "cartier", "casa", "case", "caseih", "cash", "casino", "cat", "catering",
        "catholic", "cba", "cbn", "cbre", "cbs", "cc", "cd", "ceb", "center", "ceo", "cern",
        "cf", "cfa", "cfd", "cg", "ch", "chanel", "channel", "charity", "chase", "chat",
        "cheap", "chintai", "chloe", "christmas", "chrome", "chrysler", "church", "ci",
        "cipriani", "circle", "cisco", "citadel", "citi", "citic", "city", "cityeats", "ck",
        "cl", "claims", "cleaning", "click", "clinic", "clinique", "clothing", "cloud", "club",
        "clubmed", "cm", "cn", "co", "coach", "codes", "coffee", "college", "cologne", "com",
        "comcast", "commbank", "community", "company", "compare", "computer", "comsec",
        "condos", "construction", "consulting", "contact", "contractors", "cooking",
        "cookingchannel", "cool", "coop", "corsica", "country", "coupon", "coupons", "courses",
        "cpa", "cr", "credit", "creditcard", "creditunion", "cricket", "crown", "crs",
        "cruise", "cruises", "csc", "cu", "cuisinella", "cv", "cw", "cx", "cy", "cymru",
        "cyou", "cz", "dabur", "dad", "dance", "data", "date", "dating", "datsun", "day",
        "dclk", "dds", "de", "deal", "dealer", "deals", "degree", "delivery", "dell",
        "deloitte", "delta", "democrat", "dental", "dentist", "desi", "design", "dev", "dhl",
        "diamonds", "diet", "digital", "direct", "directory", "discount", "discover", "dish",
        "diy", "dj", "dk", "dm", "dnp", "do", "docs", "doctor", "dodge", "dog", "doha",
        "domains", "doosan", "dot", "download", "drive", "dtv", "dubai", "duck", "dunlop",
        "duns", "dupont", "durban", "dvag", "dvr", "dz", "earth", "eat", "ec", "eco", "edeka",
        "edu", "education", "ee", "eg", "eh", "email", "emerck", "energy", "engineer",
        "engineering", "enterprises", "epost", "epson", "equipment", "er", "ericsson", "erni",
        "es", "esq", "estate", "esurance", "et", "etisalat", "eu", "eurovision", "eus",
        "events", "everbank", "exchange", "expert", "exposed", "express", "extraspace", "fage",
        "fail", "fairwinds", "faith", "family", "fan", "fans", "farm", "farmers", "fashion",
        "fast", "fedex", "feedback", "ferrari", "ferrero", "fi", "fiat", "fidelity", "fido",
        "film", "final", "finance", "financial", "fire", "firestone", "firmdale", "fish",
        "fishing", "fit", "fitness", "fj", "fk", "flickr", "flights", "flir", "florist",
        "flowers", "flsmidth", "fly", "fm", "fo", "foo", "food", "foodnetwork", "football",
        "ford", "forex", "forsale", "forum", "foundation", "fox", "fr", "free", "fresenius",
        "frl", "frogans", "frontdoor", "frontier", "ftr", "fujitsu", "fujixerox", "fun",
        "fund", "furniture", "futbol", "fyi", "ga", "gal", "gallery", "gallo", "gallup",
        "game", "games", "gap", "garden", "gay", "gb", "gbiz", "gd", "gdn", "ge", "gea",
        "gent", "genting", "george", "gf", "gg", "ggee", "gh", "gi", "gift", "gifts", "gives",
        "giving", "gl", "glade", "glass", "gle", "global", "globo", "gm", "gmail", "gmbh",
        "gmo", "gmx", "gn", "godaddy", "gold", "goldpoint", "golf", "goo", "goodhands",
        "goodyear", "goog", "google", "gop", "got", "gov", "gp", "gq", "gr", "grainger",
        "graphics", "gratis", "green", "gripe", "grocery", "group", "gs", "gt", "gu",
        "guardian", "gucci", "guge", "guide", "guitars", "guru", "gw", "gy", "hair", "hamburg",
        "hangout", "haus", "hbo", "hdfc", "hdfcbank", "health", "healthcare", "help",
        "helsinki", "here", "hermes", "hgtv", "hiphop", "hisamitsu", "hitachi", "hiv", "hk",
        "hkt", "hm", "hn", "hockey", "holdings", "holiday", "homedepot", "homegoods", "homes",
        "homesense", "honda", "honeywell", "horse", "hospital", "host", "hosting", "hot",
        "hoteles", "hotels", "hotmail", "house", "how", "hr", "hsbc", "ht", "htc", "hu",
        "hughes", "hyatt", "hyundai", "ibm", "icbc", "ice", "icu", "id", "ie", "ieee", "ifm",
        "iinet", "ikano", "il", "im", "imamat", "imdb", "immo", "immobilien", "in", "inc",
        "industries", "infiniti", "info", "ing", "ink", "institute", "insurance", "insure",
        "int", "intel", "international", "intuit", "investments", "io", "ipiranga", "iq", "ir",
        "irish", "is", "iselect", "ismaili", "ist", "istanbul", "it", "itau", "itv", "iveco",
        "iwc", "jaguar", "java", "jcb", "jcp", "je", "jeep", "jetzt", "jewelry", "jio", "jlc",
        "jll", "jm", "jmp", "jnj", "jo", "jobs", "joburg", "jot", "joy", "jp", "jpmorgan",
        "jprs", "juegos", "juniper", "kaufen", "kddi", "ke", "kerryhotels", "kerrylogistics",
        "kerryproperties", "kfh", "kg", "kh", "ki", "kia", "kim", "kinder", "kindle",
        "kitchen", "kiwi", "km", "kn", "koeln", "komatsu", "kosher", "kp", "kpmg", "kpn", "kr",
        "krd", "kred", "kuokgroup", "kw", "ky", "kyoto", "kz", "la", "lacaixa", "ladbrokes",
        "lamborghini", "lamer", "lancaster", "lancia", "lancome", "land", "landrover",
        "lanxess", "lasalle", "lat", "latino", "latrobe", "law", "lawyer", "lb", "lc", "lds",
        "lease", "leclerc", "lefrak", "legal", "lego", "lexus", "lgbt", "li", "liaison",
        "lidl", "life", "lifeinsurance", "lifestyle", "lighting", "like", "lilly", "limited",
        "limo", "lincoln", "linde", "link", "lipsy", "live", "living", "lixil", "lk", "llc",
        "llp", "loan", "loans", "locker", "locus", "loft", "lol", "london", "lotte", "lotto",
        "love", "lpl", "lplfinancial", "lr", "ls", "lt", "ltd", "ltda", "lu", "lundbeck",
        "lupin", "luxe", "luxury", "lv", "ly", "ma", "macys", "madrid", "maif", "maison",
        "makeup", "man", "management", "mango", "map", "market", "marketing", "markets",
        "marriott", "marshalls", "maserati", "mattel", "mba", "mc", "mcd", "mcdonalds",
        "mckinsey", "md", "me", "med", "media", "meet", "melbourne", "meme", "memorial", "men",
        "menu", "meo", "merckmsd", "metlife", "mf", "mg", "mh", "miami", "microsoft", "mil",
        "mini", "mint", "mit", "mitsubishi", "mk", "ml", "mlb", "mls", "mm", "mma", "mn", "mo",
        "mobi", "mobile", "mobily", "moda", "moe", "moi", "mom", "monash", "money", "monster",
        "montblanc", "mopar", "mormon", "mortgage", "moscow", "moto", "motorcycles", "mov",
        "movie", "movistar", "mp", "mq", "mr", "ms", "msd", "mt", "mtn", "mtpc", "mtr", "mu",
        "museum", "mutual", "mutuelle", "mv", "mw", "mx", "my", "mz", "na", "nab", "nadex",
        "nagoya", "name", "nationwide", "natura", "navy", "nba", "nc", "ne", "nec", "net",
        "netbank", "netflix", "network", "neustar", "new", "newholland", "news", "next",
        "nextdirect", "nexus", "nf", "nfl", "ng", "ngo", "nhk", "ni", "nico", "nike", "nikon",
        "ninja", "nissan", "nissay", "nl", "no", "nokia", "northwesternmutual", "norton",
        "now", "nowruz", "nowtv", "np", "nr", "nra", "nrw", "ntt", "nu", "nyc", "nz", "obi",
        "observer", "off", "office", "okinawa", "olayan", "olayangroup", "oldnavy", "ollo",
        "om", "omega", "one", "ong", "onion", "onl", "online", "onyourside", "ooo", "open",
        "oracle", "orange", "org", "organic", "orientexpress", "origins", "osaka", "otsuka",
        "ott", "ovh", "pa", "page", "pamperedchef", "panasonic", "panerai", "paris", "pars",
        "partners", "parts", "party", "passagens", "pay", "pccw", "pe", "pet", "pf", "pfizer",
        "pg", "ph", "pharmacy", "phd", "philips", "phone", "photo", "photography", "photos",
        "physio", "piaget", "pics", "pictet", "pictures", "pid", "pin", "ping", "pink",
        "pioneer", "pizza", "pk", "pl", "place", "play", "playstation", "plumbing", "plus",
        "pm", "pn", "pnc", "pohl", "poker", "politie", "porn", "post", "pr", "pramerica",
        "praxi", "press", "prime", "pro", "prod", "productions", "prof", "progressive",
        "promo", "properties", "property", "protection", "pru", "prudential", "ps", "pt",
        "pub", "pw", "pwc", "py", "qa", "qpon", "quebec", "quest", "qvc", "racing", "radio",
        "raid", "re", "read", "realestate", "realtor", "realty", "recipes", "red", "redstone",
        "redumbrella", "rehab", "reise", "reisen", "reit", "reliance", "ren", "rent",
        "rentals", "repair", "report", "republican", "rest", "restaurant", "review", "reviews",
        "rexroth", "rich", "richardli", "ricoh", "rightathome", "ril", "rio", "rip", "rmit",
        "ro", "rocher", "rocks", "rodeo", "rogers", "room", "rs", "rsvp", "ru", "rugby",
        "ruhr", "run", "rw", "rwe", "ryukyu", "sa", "saarland", "safe", "safety", "sakura",
        "sale", "salon", "samsclub", "samsung", "sandvik", "sandvikcoromant", "sanofi", "sap",
        "sapo", "sarl", "sas", "save", "saxo", "sb", "sbi", "sbs", "sc", "sca", "scb",
        "schaeffler", "schmidt", "scholarships", "school", "schule", "schwarz", "science",
        "scjohnson", "scor", "scot", "sd", "se", "search", "seat", "secure", "security",
        "seek", "select", "sener", "services", "ses", "seven", "sew", "sex", "sexy", "sfr",
        "sg", "sh", "shangrila", "sharp", "shaw", "shell", "shia", "shiksha", "shoes", "shop",
        "shopping", "shouji", "show", "showtime", "shriram", "si", "silk", "sina", "singles",
        "site", "sj", "sk", "ski", "skin", "sky", "skype", "sl", "sling", "sm", "smart",
        "smile", "sn", "sncf", "so", "soccer", "social", "softbank", "software", "sohu",
        "solar", "solutions", "song", "sony", "soy", "space", "spiegel", "sport", "spot",
        "spreadbetting", "sr", "srl", "srt", "ss", "st", "stada", "staples", "star", "starhub",
        "statebank", "statefarm", "statoil", "stc", "stcgroup", "stockholm", "storage",
        "store", "stream", "studio", "study", "style", "su", "sucks", "supplies", "supply",
        "support", "surf", "surgery", "suzuki", "sv", "swatch", "swiftcover", "swiss", "sx",
        "sy", "sydney", "symantec", "systems", "sz", "tab", "taipei", "talk", "taobao",
        "target", "tatamotors", "tatar", "tattoo", "tax", "taxi", "tc", "tci", "td", "tdk",
        "team", "tech", "technology", "tel", "telecity", "telefonica", "temasek", "tennis",
        "teva", "tf", "tg", "th", "thd", "theater", "theatre", "tiaa", "tickets", "tienda",
        "tiffany", "tips", "tires", "tirol", "tj", "tjmaxx", "tjx", "tk", "tkmaxx", "tl", "tm",
        "tmall", "tn", "to", "today", "tokyo", "tools", "top", "toray", "toshiba", "total",
        "tours", "town", "toyota", "toys", "tp", "tr", "trade", "trading", "training",
        "travel", "travelchannel", "travelers", "travelersinsurance", "trust", "trv", "tt",
        "tube", "tui", "tunes", "tushu", "tv", "tvs", "tw", "tz", "ua", "ubank", "ubs",
        "uconnect", "ug", "uk", "um", "unicom", "university", "uno", "uol", "ups", "us", "uy",
        "uz", "va", "vacations", "vana", "vanguard", "vc", "ve", "vegas", "ventures",
        "verisign", "vermögensberater", "vermögensberatung", "versicherung", "vet", "vg", "vi",
        "viajes", "video", "vig", "viking", "villas", "vin", "vip", "virgin", "visa", "vision",
        "vista", "vistaprint", "viva", "vivo", "vlaanderen", "vn", "vodka", "volkswagen",
        "volvo", "vote", "voting", "voto", "voyage", "vu", "vuelos", "wales", "walmart",
        "walter", "wang", "wanggou", "warman", "watch", "watches", "weather", "weatherchannel",
        "webcam", "weber", "website", "wed", "wedding", "weibo", "weir", "wf", "whoswho",
        "wien", "wiki", "williamhill", "win", "windows", "wine", "winners", "wme",
        "wolterskluwer", "woodside", "work", "works", "world", "wow", "ws", "wtc", "wtf",
        "xbox", "xerox", "xfinity", "xihuan", "xin", "xperia", "xxx", "xyz", "yachts", "yahoo",
        "yamaxun", "yandex", "ye", "yodobashi", "yoga", "yokohama", "you", "youtube", "yt",
        "yun", "za", "zappos", "zara", "zero", "zip", "zippo", "zm", "zone", "zuerich", "zw",
        "ελ", "ευ", "бг", "бел", "дети", "ею", "католик", "ком", "мкд", "мон", "москва",
        "онлайн", "орг", "рус", "рф", "сайт", "срб", "укр", "қаз", "հայ", "קום", "ابوظبي",
        "اتصالات", "ارامكو", "الاردن", "البحرين", "الجزائر", "السعودية", "العليان", "المغرب",
        "امارات", "ایران", "بارت", "بازار", "بيتك", "بھارت", "تونس", "سودان", "سورية", "شبكة",
        "عراق", "عرب", "عمان", "فلسطين", "قطر", "كاثوليك", "كوم", "مصر", "مليسيا", "موبايلي",
        "موريتانيا", "موقع", "همراه", "پاکستان", "ڀارت", "कॉम", "नेट", "भारत", "भारतम्",
        "भारोत", "संगठन", "বাংলা", "ভারত", "ভাৰত", "ਭਾਰਤ", "ભારત", "ଭାରତ", "இந்தியா", "இலங்கை",
        "சிங்கப்பூர்", "భారత్", "ಭಾರತ", "ഭാരതം", "ලංකා", "คอม", "ไทย", "ລາວ", "გე", "みんな",
        "クラウド", "グーグル", "コム", "ストア", "セール", "ファッション", "ポイント", "世界", "中信", "中国", "中國", "中文网",
        "企业", "佛山", "信息", "健康", "八卦", "公司", "公益", "台湾", "台灣", "商城", "商店", "商标", "嘉里", "嘉里大酒店",
        "在线", "大众汽车", "大拿", "天主教", "娱乐", "家電", "工行", "广东", "微博", "慈善", "我爱你", "手机", "手表", "招聘",
        "政务", "政府", "新加坡", "新闻", "时尚", "書籍", "机构", "淡马锡", "游戏", "澳門", "点看", "珠宝", "移动", "组织机构",
        "网址", "网店", "网站", "网络", "联通", "诺基亚", "谷歌", "购物", "通販", "集团", "電訊盈科", "飞利浦", "食品", "餐厅",
        "香格里拉", "香港", "닷넷", "닷컴", "삼성", "한국",
    )
)

#: The top-level domains after which ``@atproto/api``'s ``detectFacets`` links a domain
#: written without ``https://`` (npm's ``tlds``), compared as they are: lower case.
BLUESKY_TLDS = frozenset(
    (
        "aaa", "aarp", "abb", "abbott", "abbvie", "abc", "able", "abogado", "abudhabi", "ac",
        "academy", "accenture", "accountant", "accountants", "aco", "actor", "ad", "ads",
        "adult", "ae", "aeg", "aero", "aetna", "af", "afl", "africa", "ag", "agakhan",
        "agency", "ai", "aig", "airbus", "airforce", "airtel", "akdn", "al", "alibaba",
        "alipay", "allfinanz", "allstate", "ally", "alsace", "alstom", "am", "amazon",
        "americanexpress", "americanfamily", "amex", "amfam", "amica", "amsterdam",
        "analytics", "android", "anquan", "anz", "ao", "aol", "apartments", "app", "apple",
        "aq", "aquarelle", "ar", "arab", "aramco", "archi", "army", "arpa", "art", "arte",
        "as", "asda", "asia", "associates", "at", "athleta", "attorney", "au", "auction",
        "audi", "audible", "audio", "auspost", "author", "auto", "autos", "aw", "aws", "ax",
        "axa", "az", "azure", "ba", "baby", "baidu", "banamex", "band", "bank", "bar",
        "barcelona", "barclaycard", "barclays", "barefoot", "bargains", "baseball",
        "basketball", "bauhaus", "bayern", "bb", "bbc", "bbt", "bbva", "bcg", "bcn", "bd",
        "be", "beats", "beauty", "beer", "berlin", "best", "bestbuy", "bet", "bf", "bg", "bh",
        "bharti", "bi", "bible", "bid", "bike", "bing", "bingo", "bio", "biz", "bj", "black",
        "blackfriday", "blockbuster", "blog", "bloomberg", "blue", "bm", "bms", "bmw", "bn",
        "bnpparibas", "bo", "boats", "boehringer", "bofa", "bom", "bond", "boo", "book",
        "booking", "bosch", "bostik", "boston", "bot", "boutique", "box", "br", "bradesco",
        "bridgestone", "broadway", "broker", "brother", "brussels", "bs", "bt", "build",
        "builders", "business", "buy", "buzz", "bv", "bw", "by", "bz", "bzh", "ca", "cab",
        "cafe", "cal", "call", "calvinklein", "cam", "camera", "camp", "canon", "capetown",
        "capital", "capitalone", "car", "caravan", "cards", "care", "career", "careers",
        "cars", "casa", "case", "cash", "casino", "cat", "catering", "catholic", "cba", "cbn",
        "cbre", "cc", "cd", "center", "ceo", "cern", "cf", "cfa", "cfd", "cg", "ch", "chanel",
        "channel", "charity", "chase", "chat", "cheap", "chintai", "christmas", "chrome",
        "church", "ci", "cipriani", "circle", "cisco", "citadel", "citi", "citic", "city",
        "ck", "cl", "claims", "cleaning", "click", "clinic", "clinique", "clothing", "cloud",
        "club", "clubmed", "cm", "cn", "co", "coach", "codes", "coffee", "college", "cologne",
        "com", "commbank", "community", "company", "compare", "computer", "comsec", "condos",
        "construction", "consulting", "contact", "contractors", "cooking", "cool", "coop",
        "corsica", "country", "coupon", "coupons", "courses", "cpa", "cr", "credit",
        "creditcard", "creditunion", "cricket", "crown", "crs", "cruise", "cruises", "cu",
        "cuisinella", "cv", "cw", "cx", "cy", "cymru", "cyou", "cz", "dad", "dance", "data",
        "date", "dating", "datsun", "day", "dclk", "dds", "de", "deal", "dealer", "deals",
        "degree", "delivery", "dell", "deloitte", "delta", "democrat", "dental", "dentist",
        "desi", "design", "dev", "dhl", "diamonds", "diet", "digital", "direct", "directory",
        "discount", "discover", "dish", "diy", "dj", "dk", "dm", "dnp", "do", "docs", "doctor",
        "dog", "domains", "dot", "download", "drive", "dtv", "dubai", "dupont", "durban",
        "dvag", "dvr", "dz", "earth", "eat", "ec", "eco", "edeka", "edu", "education", "ee",
        "eg", "email", "emerck", "energy", "engineer", "engineering", "enterprises", "epson",
        "equipment", "er", "ericsson", "erni", "es", "esq", "estate", "et", "eu", "eurovision",
        "eus", "events", "exchange", "expert", "exposed", "express", "extraspace", "fage",
        "fail", "fairwinds", "faith", "family", "fan", "fans", "farm", "farmers", "fashion",
        "fast", "fedex", "feedback", "ferrari", "ferrero", "fi", "fidelity", "fido", "film",
        "final", "finance", "financial", "fire", "firestone", "firmdale", "fish", "fishing",
        "fit", "fitness", "fj", "fk", "flickr", "flights", "flir", "florist", "flowers", "fly",
        "fm", "fo", "foo", "food", "football", "ford", "forex", "forsale", "forum",
        "foundation", "fox", "fr", "free", "fresenius", "frl", "frogans", "frontier", "ftr",
        "fujitsu", "fun", "fund", "furniture", "futbol", "fyi", "ga", "gal", "gallery",
        "gallo", "gallup", "game", "games", "gap", "garden", "gay", "gb", "gbiz", "gd", "gdn",
        "ge", "gea", "gent", "genting", "george", "gf", "gg", "ggee", "gh", "gi", "gift",
        "gifts", "gives", "giving", "gl", "glass", "gle", "global", "globo", "gm", "gmail",
        "gmbh", "gmo", "gmx", "gn", "godaddy", "gold", "goldpoint", "golf", "goo", "goodyear",
        "goog", "google", "gop", "got", "gov", "gp", "gq", "gr", "grainger", "graphics",
        "gratis", "green", "gripe", "grocery", "group", "gs", "gt", "gu", "gucci", "guge",
        "guide", "guitars", "guru", "gw", "gy", "hair", "hamburg", "hangout", "haus", "hbo",
        "hdfc", "hdfcbank", "health", "healthcare", "help", "helsinki", "here", "hermes",
        "hiphop", "hisamitsu", "hitachi", "hiv", "hk", "hkt", "hm", "hn", "hockey", "holdings",
        "holiday", "homedepot", "homegoods", "homes", "homesense", "honda", "horse",
        "hospital", "host", "hosting", "hot", "hotels", "hotmail", "house", "how", "hr",
        "hsbc", "ht", "hu", "hughes", "hyatt", "hyundai", "ibm", "icbc", "ice", "icu", "id",
        "ie", "ieee", "ifm", "ikano", "il", "im", "imamat", "imdb", "immo", "immobilien", "in",
        "inc", "industries", "infiniti", "info", "ing", "ink", "institute", "insurance",
        "insure", "int", "international", "intuit", "investments", "io", "ipiranga", "iq",
        "ir", "irish", "is", "ismaili", "ist", "istanbul", "it", "itau", "itv", "jaguar",
        "java", "jcb", "je", "jeep", "jetzt", "jewelry", "jio", "jll", "jm", "jmp", "jnj",
        "jo", "jobs", "joburg", "jot", "joy", "jp", "jpmorgan", "jprs", "juegos", "juniper",
        "kaufen", "kddi", "ke", "kerryhotels", "kerryproperties", "kfh", "kg", "kh", "ki",
        "kia", "kids", "kim", "kindle", "kitchen", "kiwi", "km", "kn", "koeln", "komatsu",
        "kosher", "kp", "kpmg", "kpn", "kr", "krd", "kred", "kuokgroup", "kw", "ky", "kyoto",
        "kz", "la", "lacaixa", "lamborghini", "lamer", "land", "landrover", "lanxess",
        "lasalle", "lat", "latino", "latrobe", "law", "lawyer", "lb", "lc", "lds", "lease",
        "leclerc", "lefrak", "legal", "lego", "lexus", "lgbt", "li", "lidl", "life",
        "lifeinsurance", "lifestyle", "lighting", "like", "lilly", "limited", "limo",
        "lincoln", "link", "live", "living", "lk", "llc", "llp", "loan", "loans", "locker",
        "locus", "lol", "london", "lotte", "lotto", "love", "lpl", "lplfinancial", "lr", "ls",
        "lt", "ltd", "ltda", "lu", "lundbeck", "luxe", "luxury", "lv", "ly", "ma", "madrid",
        "maif", "maison", "makeup", "man", "management", "mango", "map", "market", "marketing",
        "markets", "marriott", "marshalls", "mattel", "mba", "mc", "mckinsey", "md", "me",
        "med", "media", "meet", "melbourne", "meme", "memorial", "men", "menu", "merckmsd",
        "mg", "mh", "miami", "microsoft", "mil", "mini", "mint", "mit", "mitsubishi", "mk",
        "ml", "mlb", "mls", "mm", "mma", "mn", "mo", "mobi", "mobile", "moda", "moe", "moi",
        "mom", "monash", "money", "monster", "mormon", "mortgage", "moscow", "moto",
        "motorcycles", "mov", "movie", "mp", "mq", "mr", "ms", "msd", "mt", "mtn", "mtr", "mu",
        "museum", "music", "mv", "mw", "mx", "my", "mz", "na", "nab", "nagoya", "name", "navy",
        "nba", "nc", "ne", "nec", "net", "netbank", "netflix", "network", "neustar", "new",
        "news", "next", "nextdirect", "nexus", "nf", "nfl", "ng", "ngo", "nhk", "ni", "nico",
        "nike", "nikon", "ninja", "nissan", "nissay", "nl", "no", "nokia", "norton", "now",
        "nowruz", "nowtv", "np", "nr", "nra", "nrw", "ntt", "nu", "nyc", "nz", "obi",
        "observer", "office", "okinawa", "olayan", "olayangroup", "ollo", "om", "omega", "one",
        "ong", "onl", "online", "ooo", "open", "oracle", "orange", "org", "organic", "origins",
        "osaka", "otsuka", "ott", "ovh", "pa", "page", "panasonic", "paris", "pars",
        "partners", "parts", "party", "pay", "pccw", "pe", "pet", "pf", "pfizer", "pg", "ph",
        "pharmacy", "phd", "philips", "phone", "photo", "photography", "photos", "physio",
        "pics", "pictet", "pictures", "pid", "pin", "ping", "pink", "pioneer", "pizza", "pk",
        "pl", "place", "play", "playstation", "plumbing", "plus", "pm", "pn", "pnc", "pohl",
        "poker", "politie", "porn", "post", "pr", "praxi", "press", "prime", "pro", "prod",
        "productions", "prof", "progressive", "promo", "properties", "property", "protection",
        "pru", "prudential", "ps", "pt", "pub", "pw", "pwc", "py", "qa", "qpon", "quebec",
        "quest", "racing", "radio", "re", "read", "realestate", "realtor", "realty", "recipes",
        "red", "redumbrella", "rehab", "reise", "reisen", "reit", "reliance", "ren", "rent",
        "rentals", "repair", "report", "republican", "rest", "restaurant", "review", "reviews",
        "rexroth", "rich", "richardli", "ricoh", "ril", "rio", "rip", "ro", "rocks", "rodeo",
        "rogers", "room", "rs", "rsvp", "ru", "rugby", "ruhr", "run", "rw", "rwe", "ryukyu",
        "sa", "saarland", "safe", "safety", "sakura", "sale", "salon", "samsclub", "samsung",
        "sandvik", "sandvikcoromant", "sanofi", "sap", "sarl", "sas", "save", "saxo", "sb",
        "sbi", "sbs", "sc", "scb", "schaeffler", "schmidt", "scholarships", "school", "schule",
        "schwarz", "science", "scot", "sd", "se", "search", "seat", "secure", "security",
        "seek", "select", "sener", "services", "seven", "sew", "sex", "sexy", "sfr", "sg",
        "sh", "shangrila", "sharp", "shell", "shia", "shiksha", "shoes", "shop", "shopping",
        "shouji", "show", "si", "silk", "sina", "singles", "site", "sj", "sk", "ski", "skin",
        "sky", "skype", "sl", "sling", "sm", "smart", "smile", "sn", "sncf", "so", "soccer",
        "social", "softbank", "software", "sohu", "solar", "solutions", "song", "sony", "soy",
        "spa", "space", "sport", "spot", "sr", "srl", "ss", "st", "stada", "staples", "star",
        "statebank", "statefarm", "stc", "stcgroup", "stockholm", "storage", "store", "stream",
        "studio", "study", "style", "su", "sucks", "supplies", "supply", "support", "surf",
        "surgery", "suzuki", "sv", "swatch", "swiss", "sx", "sy", "sydney", "systems", "sz",
        "tab", "taipei", "talk", "taobao", "target", "tatamotors", "tatar", "tattoo", "tax",
        "taxi", "tc", "tci", "td", "tdk", "team", "tech", "technology", "tel", "temasek",
        "tennis", "teva", "tf", "tg", "th", "thd", "theater", "theatre", "tiaa", "tickets",
        "tienda", "tips", "tires", "tirol", "tj", "tjmaxx", "tjx", "tk", "tkmaxx", "tl", "tm",
        "tmall", "tn", "to", "today", "tokyo", "tools", "top", "toray", "toshiba", "total",
        "tours", "town", "toyota", "toys", "tr", "trade", "trading", "training", "travel",
        "travelers", "travelersinsurance", "trust", "trv", "tt", "tube", "tui", "tunes",
        "tushu", "tv", "tvs", "tw", "tz", "ua", "ubank", "ubs", "ug", "uk", "unicom",
        "university", "uno", "uol", "ups", "us", "uy", "uz", "va", "vacations", "vana",
        "vanguard", "vc", "ve", "vegas", "ventures", "verisign", "vermögensberater",
        "vermögensberatung", "versicherung", "vet", "vg", "vi", "viajes", "video", "vig",
        "viking", "villas", "vin", "vip", "virgin", "visa", "vision", "viva", "vivo",
        "vlaanderen", "vn", "vodka", "volvo", "vote", "voting", "voto", "voyage", "vu",
        "wales", "walmart", "walter", "wang", "wanggou", "watch", "watches", "weather",
        "weatherchannel", "webcam", "weber", "website", "wed", "wedding", "weibo", "weir",
        "wf", "whoswho", "wien", "wiki", "williamhill", "win", "windows", "wine", "winners",
        "wme", "wolterskluwer", "woodside", "work", "works", "world", "wow", "ws", "wtc",
        "wtf", "xbox", "xerox", "xihuan", "xin", "xxx", "xyz", "yachts", "yahoo", "yamaxun",
        "yandex", "ye", "yodobashi", "yoga", "yokohama", "you", "youtube", "yt", "yun", "za",
        "zappos", "zara", "zero", "zip", "zm", "zone", "zuerich", "zw", "ελ", "ευ", "бг",
        "бел", "дети", "ею", "католик", "ком", "мкд", "мон", "москва", "онлайн", "орг", "рус",
        "рф", "сайт", "срб", "укр", "қаз", "հայ", "ישראל", "קום", "ابوظبي", "ارامكو", "الاردن",
        "البحرين", "الجزائر", "السعودية", "العليان", "المغرب", "امارات", "ایران", "بارت",
        "بازار", "بيتك", "بھارت", "تونس", "سودان", "سورية", "شبكة", "عراق", "عرب", "عمان",
        "فلسطين", "قطر", "كاثوليك", "كوم", "مصر", "مليسيا", "موريتانيا", "موقع", "همراه",
        "پاکستان", "ڀارت", "कॉम", "नेट", "भारत", "भारतम्", "भारोत", "संगठन", "বাংলা", "ভারত",
        "ভাৰত", "ਭਾਰਤ", "ભારત", "ଭାରତ", "இந்தியா", "இலங்கை", "சிங்கப்பூர்", "భారత్", "ಭಾರತ",
        "ഭാരതം", "ලංකා", "คอม", "ไทย", "ລາວ", "გე", "みんな", "アマゾン", "クラウド", "グーグル", "コム", "ストア",
        "セール", "ファッション", "ポイント", "世界", "中信", "中国", "中國", "中文网", "亚马逊", "企业", "佛山", "信息", "健康",
        "八卦", "公司", "公益", "台湾", "台灣", "商城", "商店", "商标", "嘉里", "嘉里大酒店", "在线", "大拿", "天主教", "娱乐",
        "家電", "广东", "微博", "慈善", "我爱你", "手机", "招聘", "政务", "政府", "新加坡", "新闻", "时尚", "書籍", "机构",
        "淡马锡", "游戏", "澳門", "点看", "移动", "组织机构", "网址", "网店", "网站", "网络", "联通", "谷歌", "购物", "通販",
        "集团", "電訊盈科", "飞利浦", "食品", "餐厅", "香格里拉", "香港", "닷넷", "닷컴", "삼성", "한국",
    )
)
# fmt: on
