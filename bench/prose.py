"""Synthetic news articles for the benchmarks, deterministic from a seed.

What matters for a benchmark is that the work looks like the real work: several outlets
covering the same development in their own words (so stories form), wire texts
re-published with light edits (so syndicated copies fold), items that are not about
the country at all or name it once in a list (so relevance has something to reject),
English with some Russian and Mongolian, and articles of a few hundred words spread
over several weeks. The facts are invented (places and offices are real, people and
companies in events are made up); nothing here is taken from a published article.

Everything is drawn from one ``random.Random(seed)`` in a fixed order and no set or
hash order is involved, so the same seed gives the same articles byte for byte.
"""

from __future__ import annotations

import random
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import cache
from itertools import accumulate
from typing import Any

# --------------------------------------------------------------------------- vocabulary

_SYLLABLES = (
    "bat bold erdene gan tsog suren jargal khuu od naran saikhan tuya ochir dorj munkh altan "
    "tumur bayar enkh dash sukh chuluun khishig amar oyun delger nyam tsetseg ganzorig uyan "
    "temuul battur zaya mandakh undral nomin tsend gerel orgil badam"
).split()

_ENGLISH_NAMES = (
    "Anna Keller, Tom Havel, Maria Lindqvist, James O'Neill, Sofia Marquez, David Chen, Laura Bianchi, "
    "Peter Novak, Hannah Weiss, Ivan Petrov, Olga Smirnova, Kenji Sato, Min-jun Park, Sarah Collins"
).split(", ")

# Real places and offices (as in countries/mongolia.yaml); events around them are invented.
_CITIES = ["Ulaanbaatar", "Darkhan", "Erdenet", "Choibalsan", "Khovd", "Murun", "Sainshand", "Dalanzadgad"]
_AIMAGS = [
    "Khovsgol",
    "Dornogovi",
    "Umnugovi",
    "Arkhangai",
    "Bayan-Olgii",
    "Khentii",
    "Zavkhan",
    "Dornod",
    "Selenge Province",
    "Govi-Altai",
]
_CROSSINGS = ["Zamyn-Uud", "Gashuunsukhait", "Altanbulag", "Shiveekhuren", "Tsagaannuur", "Bichigt"]
_MINES = ["Oyu Tolgoi", "Tavan Tolgoi", "Erdenet mine", "Baganuur mine", "Ukhaa Khudag", "Tsagaan Suvarga"]
_INSTITUTIONS = [
    "State Great Khural",
    "General Intelligence Agency",
    "General Authority for Border Protection",
    "Independent Authority Against Corruption",
    "Customs General Administration",
    "Mongolbank",
    "Erdenes Mongol",
]
_LEADERS = [
    "President Ukhnaagiin Khurelsukh",
    "Prime Minister Gombojav Zandanshatar",
    "Speaker Nyam-Osoryn Uchral",
    "Foreign Minister Batmunkh Battsetseg",
    "Mayor Khishgeegiin Nyambaatar",
]
_PARTNERS = [
    ("China", "Beijing", "Chinese"),
    ("Russia", "Moscow", "Russian"),
    ("Japan", "Tokyo", "Japanese"),
    ("South Korea", "Seoul", "South Korean"),
    ("the United States", "Washington", "American"),
    ("Germany", "Berlin", "German"),
    ("India", "New Delhi", "Indian"),
    ("Kazakhstan", "Astana", "Kazakh"),
    ("Turkey", "Ankara", "Turkish"),
    ("France", "Paris", "French"),
    ("the United Kingdom", "London", "British"),
    ("Canada", "Ottawa", "Canadian"),
]
_MONTHS = "January February March April May June July August September October November December".split()
_WEEKDAYS = "Monday Tuesday Wednesday Thursday Friday Saturday Sunday".split()

_CITIES_CYR = ["Улан-Батор", "Дархан", "Эрдэнэт", "Чойбалсан", "Ховд", "Мөрөн", "Сайншанд", "Даланзадгад"]
_PARTNERS_RU = ["Китаем", "Россией", "Японией", "Южной Кореей", "США", "Германией", "Индией", "Казахстаном"]
_PARTNERS_MN = [
    "Хятадтай",
    "ОХУ-тай",
    "Японтой",
    "БНСУ-тай",
    "АНУ-тай",
    "Германтай",
    "Энэтхэгтэй",
    "Казахстантай",
]

_STOP_EN = (
    "the of and to in a that for on is was with said by as at from it be has have will its an are which "
    "this were after not their but had also been more than who would about over into up some can could "
    "other there against under between while when where them these those what our"
).split()
_STOP_RU = (
    "и в на с по что не как для из от к о это также был была будет его их но а при до после уже".split()
)
_STOP_MN = "нь ба болон энэ тэр юм байна гэж ч бол хийх гэсэн байгаа өөр бүх их шинэ мөн".split()
_SYL_LATIN = (
    "ka ren to mi sol var den bra lo tin mar ser pol gan vi ro nel tu bar kel dor fa lin mo ste ran qua "
    "ber dis cor pen al ex tra ment ion ing ed er ous ive ate pro con re un in port sta ble gra vel"
).split()
_SYL_CYR = (
    "ка ра то ми сол вар ден бра ло тин мар сер пол ган ви ро нел ту бар кел дор ин ов ская ение ость ать "
    "ный ство про пере за об най бат хан гол цэ дэ лэ төр өр үн гаа лах"
).split()


class Babble:
    """Sentences drawn from a Zipfian vocabulary of made-up words.

    Template sentences alone repeat verbatim across unrelated articles, which makes every
    article a near-duplicate of every other (MinHash) and every story look alike
    (TF-IDF). Real text does not; so most of an article's body is drawn word by word,
    function words from the language and content words from 30,000 invented ones with
    a Zipf distribution, plus the event's own topical words, as in a topic model.
    """

    def __init__(self, syllables: Sequence[str], size: int, seed: str) -> None:
        r = random.Random(seed)
        words: list[str] = []
        seen: set[str] = set()
        while len(words) < size:
            w = "".join(r.choice(syllables) for _ in range(r.choice((2, 2, 3, 3, 3, 4))))
            if w not in seen:
                seen.add(w)
                words.append(w)
        self.words = words
        self.cum = list(accumulate(1.0 / (i + 2.7) ** 1.07 for i in range(size)))

    def topical(self, rng: random.Random, k: int = 12) -> tuple[str, ...]:
        """An event's own words: from the long tail, so they are rare elsewhere."""
        return tuple(self.words[rng.randrange(300, len(self.words))] for _ in range(k))

    def sentences(
        self,
        rng: random.Random,
        stop: Sequence[str],
        topical: Sequence[str],
        count: int,
        *,
        topical_share: float = 0.13,
    ) -> list[str]:
        out = []
        for _ in range(count):
            n = rng.randrange(9, 27)
            content = rng.choices(self.words, cum_weights=self.cum, k=n)
            tokens = []
            for i in range(n):
                r = rng.random()
                if r < 0.42:
                    tokens.append(stop[min(int(rng.random() ** 2 * len(stop)), len(stop) - 1)])
                elif topical and r < 0.42 + topical_share:
                    tokens.append(rng.choice(topical))
                else:
                    tokens.append(content[i])
            if n > 14:
                tokens[n // 2] += ","
            text = " ".join(tokens)
            out.append(text[0].upper() + text[1:] + ".")
        return out


@cache
def babble(script: str) -> Babble:
    """The shared vocabulary of a script (``latin`` or ``cyrillic``), built once per process."""
    if script == "latin":
        return Babble(_SYL_LATIN, 30_000, "babble-latin")
    return Babble(_SYL_CYR, 20_000, "babble-cyrillic")


# --------------------------------------------------------------------------- templates


@dataclass(frozen=True)
class _Topic:
    titles: tuple[str, ...]
    leads: tuple[str, ...]
    body: tuple[str, ...]


def _t(titles: str, leads: str, body: str) -> _Topic:
    """Templates are written one per line; a blank-free block per kind keeps them readable."""

    def split(block: str) -> tuple[str, ...]:
        return tuple(line.strip() for line in block.strip().splitlines() if line.strip())

    return _Topic(split(titles), split(leads), split(body))


TOPICS: dict[str, list[_Topic]] = {
    "security": [
        _t(
            """
            {agency} traces {n1} cyberattacks to {codename} hacking group
            Hackers hit {company} servers as cyber incidents rise in {city}
            """,
            """
            Mongolia's {agency} said on {weekday} that it had recorded {n1} cyberattacks against government networks in {month}, most of them phishing and DDoS attempts.
            A ransomware attack disrupted billing systems at {company} in {city} this week, the {agency} said, adding that no customer data appears to have been leaked.
            """,
            """
            Investigators traced part of the malware to servers abroad but did not name a country.
            The national cybersecurity centre issued a warning to ministries about a wave of phishing emails posing as tax notices.
            Officials said critical information infrastructure in {city} had been patched within {n2} hours.
            The data breach at {company} is the {ordinal} serious cyber incident reported in Mongolia since January.
            Lawmakers in the State Great Khural have called for the cybersecurity law to be amended before the autumn session.
            Experts at the {project} forum said many agencies still run outdated software.
            """,
        ),
        _t(
            """
            Wildfire near {soum} in {aimag} burns {n1} hectares
            Steppe fire reaches {soum} centre in {aimag}, {n2} households evacuated
            """,
            """
            Emergency crews in {aimag} province contained a steppe fire on {weekday} after it burned {n1} hectares of pasture, Mongolia's National Emergency Management Agency said.
            A fast-moving steppe and forest fire forced the evacuation of {n2} households in {aimag} before firefighters and soldiers stopped it late on {weekday}.
            """,
            """
            More than {n3} firefighters, soldiers and volunteers were sent to the area from {city}.
            Strong winds and dry grass after a snowless winter made the fire hard to control, officials said.
            The emergency agency said {n4} head of livestock were lost and two winter shelters burned down.
            Local authorities in {aimag} declared a high fire-risk regime for the rest of the month.
            Police opened an investigation into whether the fire started from a camp stove near the {project} site.
            Herders in the area said the burned pasture would not recover before the summer.
            """,
        ),
        _t(
            """
            Border guards at {crossing} detain {n2} over {company} smuggling ring
            Smuggling case at {crossing} leads to arrests of {company} brokers
            """,
            """
            Border guards at the {crossing} crossing detained {n2} people on {weekday} on suspicion of smuggling {goods} worth {amount}, the General Authority for Border Protection said.
            Prosecutors charged {n2} customs officers at the {crossing} port with taking bribes to let trucks carrying {goods} cross unchecked.
            """,
            """
            The suspects were handed over to police in {city} for questioning.
            Officials said the smuggling network used forged documents from {company}.
            The Customs General Administration said checks at {crossing} would be tightened for the next {n3} days.
            Queues of coal trucks at the border grew to several kilometres while the inspection lasted.
            It is the {ordinal} such case at the {crossing} checkpoint this year.
            The Independent Authority Against Corruption said it was reviewing the port's procurement records.
            """,
        ),
        _t(
            """
            Flooding in {soum} near {city} forces evacuation of {n2} households
            Heavy rain floods {soum} and {city} districts, {n3} people rescued
            """,
            """
            Flash floods after heavy rain forced the evacuation of {n2} households in {city} on {weekday}, and {n3} people were rescued from flooded ger districts, emergency officials said.
            Rescue teams in {city} pulled {n3} people from the water after a night of heavy rain flooded roads and ger districts, the emergency agency said.
            """,
            """
            Parts of the main road between {city} and {city2} were closed because a bridge was damaged.
            The city government released {amount} from its reserve fund for temporary shelter.
            Meteorologists warned that more rain was expected over the next {n4} days.
            Residents said the drainage channels had not been cleaned since last year's flood.
            Power was cut to about {n1} homes while crews repaired a damaged substation.
            The {project} housing project was among the sites hit hardest.
            """,
        ),
        _t(
            """
            Anti-corruption agency detains {company} executives over {project}
            Corruption probe into {project} widens to {n2} officials
            """,
            """
            The Independent Authority Against Corruption detained {n2} executives of {company} on {weekday} over alleged embezzlement of {amount} from the {project}.
            Prosecutors widened a corruption investigation into the {project} to {n2} current and former officials, accusing them of abuse of power and money laundering.
            """,
            """
            The agency said the suspects had inflated contract prices and moved funds to accounts abroad.
            Lawyers for the company said their clients denied any wrongdoing.
            The case is one of several corruption investigations opened this year into state-owned firms.
            Opposition lawmakers demanded a hearing in the State Great Khural on the {project}.
            A court in {city} ordered that {n3} properties linked to the suspects be frozen.
            Civil society groups said the case would test the government's promise to fight graft.
            """,
        ),
        _t(
            """
            Protesters gather on Sukhbaatar Square over {issue} and {project}
            Thousands rally in Ulaanbaatar against {project} decision
            """,
            """
            Several thousand people gathered on Sukhbaatar Square in Ulaanbaatar on {weekday} to protest against {issue}, calling for the resignation of officials they blamed.
            Protesters rallied in central Ulaanbaatar for a {ordinal} day over {issue}, and police said the demonstration remained peaceful.
            """,
            """
            Police said about {n3} officers were deployed and no arrests were made.
            Organisers said they would return every {weekday} until their demands were met.
            The government spokesperson said ministers were ready to meet the protesters' representatives.
            The protest followed reports about {issue} published by local media last week.
            Students and young professionals made up most of the crowd, reporters at the scene said.
            Traffic around the square was diverted for several hours.
            """,
        ),
    ],
    "economy": [
        _t(
            """
            Coal exports by {company} through {crossing} reach {n1} tonnes
            {mine} coal shipments by {company} to China rise {pct} percent
            """,
            """
            Mongolia exported {n1} tonnes of coal through the {crossing} border port in {month}, customs data showed on {weekday}, as demand from Chinese steel mills recovered.
            Coal shipments from {mine} to China rose {pct} percent year on year in {month}, helped by the new rail link and faster customs clearance at {crossing}.
            """,
            """
            Coal remains Mongolia's largest export and the main source of budget revenue.
            Prices for coking coal at the border averaged {amount} per tonne, traders said.
            The Customs General Administration said the number of trucks crossing daily rose to {n2}.
            Analysts warned that a slowdown in Chinese construction could weigh on prices later in the year.
            Erdenes Tavan Tolgoi said it planned to sell more coal through the commodity exchange.
            Exports of copper concentrate from {mine} were flat over the same period.
            """,
        ),
        _t(
            """
            {company} signs {amount} deal for {project}
            {partner_adj} investors back {project} with {amount}
            """,
            """
            {company} signed an agreement with {partner_adj} partners worth {amount} to develop the {project} in {aimag}, the companies said on {weekday}.
            A group of {partner_adj} investors agreed to fund the {project} in {aimag} with {amount}, making it one of the largest foreign investments in Mongolia this year.
            """,
            """
            The project is expected to create {n3} jobs and start production in {year}.
            Mongolia's investment agency said the deal still needs approval from the cabinet.
            The {project} includes a processing plant, a power line and a road to the railway.
            Environmental groups in {aimag} asked for a public review of the water use plan.
            Officials said the investment would help diversify an economy that depends heavily on mining.
            The financing will be provided in stages over {n4} years.
            """,
        ),
        _t(
            """
            Mongolbank holds rate at {pct} percent as {name} warns on prices
            Inflation in Mongolia slows to {pct2} percent, {name} says
            """,
            """
            Mongolbank kept its policy rate at {pct} percent on {weekday}, saying inflation had slowed to {pct2} percent in {month} but risks from food and fuel prices remained.
            Annual inflation in Mongolia slowed to {pct2} percent in {month}, the National Statistics Office said, as meat and fuel prices stabilised.
            """,
            """
            The central bank said the tugrik had been broadly stable against the dollar.
            Economists expect growth of around {pct2} percent this year, driven by mining and services.
            Fuel imports from Russia account for most of the country's petrol and diesel.
            The next monetary policy meeting is scheduled for {month2}.
            Commercial banks said demand for loans from small businesses remained strong.
            Foreign exchange reserves rose to {amount}, enough to cover several months of imports.
            """,
        ),
        _t(
            """
            {project} railway to {crossing} opens to freight traffic
            {project} rail link cuts transport costs for {mine}
            """,
            """
            The new railway line linking {mine} with the {crossing} border crossing opened to freight traffic on {weekday}, which officials said would cut transport costs by {pct} percent.
            The {project} rail link carried its first trains of coal from {mine} toward {crossing} this week, replacing thousands of truck trips a month.
            """,
            """
            The line was built with financing of {amount} and connects to the Chinese rail network.
            Officials expect it to carry {n1} tonnes of freight a year once fully operational.
            Truck drivers who haul coal to the border said they worried about losing work.
            The gauge-change station near the border was finished ahead of schedule.
            The government plans two more rail links to the Chinese border by {year}.
            Ulaanbaatar Railway said passenger services would not be affected.
            """,
        ),
        _t(
            """
            Government's {year} budget funds {project} despite {amount} deficit
            Lawmakers debate cuts to {project} in draft {year} budget
            """,
            """
            The government submitted its draft budget for {year} to the State Great Khural on {weekday}, projecting a deficit of {amount} and higher spending on roads and energy.
            Members of the State Great Khural began debating the {year} draft budget, which cuts some social programmes to keep the deficit below {pct} percent of GDP.
            """,
            """
            The finance ministry expects revenue from mining royalties to fall as coal prices ease.
            Spending on the {project} is the largest single item in the capital investment plan.
            The International Monetary Fund has urged the government to rebuild fiscal buffers.
            Opposition members said the budget underestimated the cost of public sector wages.
            A final vote is expected before the end of {month2}.
            Provincial governors asked for more funding for heating and schools.
            """,
        ),
    ],
    "diplomacy": [
        _t(
            """
            {leader} meets {partner_adj} counterpart in {capital}, backs {project}
            Mongolia and {partner} launch {project} during visit to {capital}
            """,
            """
            {leader} held talks with {partner_adj} leaders in {capital} on {weekday}, and the two sides agreed to expand cooperation in trade, education and energy.
            Mongolia and {partner} pledged to deepen their partnership during an official visit by {leader} to {capital}, signing {n4} agreements.
            """,
            """
            The two sides discussed regional security and the situation on the Korean Peninsula.
            A joint statement said they would hold regular political consultations.
            {partner} is one of Mongolia's third neighbours, a policy meant to balance ties with Russia and China.
            Business leaders travelling with the delegation signed memorandums worth {amount}.
            The visit marks {n4} decades of diplomatic relations between the two countries.
            The leaders also agreed to simplify visa rules for students and business travellers.
            """,
        ),
        _t(
            """
            Mongolia and {partner} sign {field} agreement covering {project}
            Foreign ministers of Mongolia and {partner} discuss {project}
            """,
            """
            Foreign Minister Batmunkh Battsetseg and her {partner_adj} counterpart signed an agreement on {field} in Ulaanbaatar on {weekday}, the Ministry of Foreign Affairs said.
            Mongolia and {partner} held their {ordinal} round of political dialogue in Ulaanbaatar, covering {field}, trade and regional issues.
            """,
            """
            The ministers agreed to set up a working group that will meet before the end of the year.
            The agreement must still be ratified by the State Great Khural.
            Both sides expressed support for a peaceful resolution of conflicts through dialogue.
            The talks were the first at ministerial level since {month2} of last year.
            The two countries also discussed a possible direct flight between Ulaanbaatar and {capital}.
            Officials said trade between the countries reached {amount} last year.
            """,
        ),
        _t(
            """
            {partner} to open consulate in {city}, envoy {name} says
            {partner} embassy expands in Ulaanbaatar with {project} office
            """,
            """
            {partner} will open a consulate in {city} later this year, its ambassador said on {weekday}, citing growing trade and the number of its citizens working in the area.
            {partner} said it would expand its embassy in Ulaanbaatar and open a trade office, reflecting closer ties with Mongolia.
            """,
            """
            The ambassador said the new office would issue visas and support investors.
            The Ministry of Foreign Affairs welcomed the decision as a sign of trust.
            Several mining companies from {partner} operate in the region around {city}.
            Diplomats said the move was part of a broader effort to engage with Central Asia and Mongolia.
            The opening ceremony is planned for {month2}.
            Local officials in {city} said they hoped the consulate would bring more tourists.
            """,
        ),
        _t(
            """
            Mongolia hosts {codename} forum on {field} in Ulaanbaatar
            {codename} dialogue in Ulaanbaatar gathers delegations from {n4} countries
            """,
            """
            Delegations from {n4} countries gathered in Ulaanbaatar on {weekday} for a two-day forum on {field} hosted by the Ministry of Foreign Affairs.
            The Ulaanbaatar Dialogue on Northeast Asian security opened with delegations from {n4} countries, including {partner} and both Koreas.
            """,
            """
            Mongolia has long presented itself as a neutral venue for talks in the region.
            Participants discussed energy links, climate change and {field}.
            {leader} said in an opening speech that dialogue was the only path to lasting stability.
            The forum ended with a chair's summary rather than a joint declaration.
            Observers noted that the North Korean delegation attended for the first time in years.
            The next forum will be held in {month2} next year.
            """,
        ),
    ],
    "defense": [
        _t(
            """
            {codename} exercise opens with troops from {n4} countries
            Soldiers from {partner} join {codename} peacekeeping drill at Five Hills
            """,
            """
            The multinational Khaan Quest peacekeeping exercise opened at the Five Hills Training Area near Ulaanbaatar on {weekday}, with about {n3} troops from {n4} countries.
            Soldiers from {partner} and Mongolia began two weeks of peacekeeping training at the Five Hills Training Area, the Ministry of Defence said.
            """,
            """
            The exercise focuses on United Nations peacekeeping tasks such as convoy escort and checkpoint operations.
            The General Staff of the Armed Forces said the training would prepare units for deployment abroad.
            Observers from China and Russia attended the opening ceremony.
            Mongolia has sent more than {n1} peacekeepers to United Nations missions since 2002.
            The exercise is co-sponsored by the United States Indo-Pacific Command.
            Field training will include medical evacuation and countering improvised explosive devices.
            """,
        ),
        _t(
            """
            Mongolian peacekeepers of {codename} contingent deploy to South Sudan
            {codename} battalion of {n3} Mongolian soldiers rotates to UN mission
            """,
            """
            A battalion of {n3} Mongolian soldiers left Ulaanbaatar on {weekday} for the United Nations mission in South Sudan, the General Staff of the Armed Forces said.
            Mongolia rotated {n3} peacekeepers to the UN mission in South Sudan this week, replacing a battalion that served for twelve months.
            """,
            """
            The soldiers completed pre-deployment training at the Five Hills Training Area.
            Mongolia is one of the largest contributors of troops to UN missions per head of population.
            The battalion includes {n4} women, the highest number so far.
            Officials said the mission's budget covers most of the cost of the deployment.
            The returning unit will be received at a ceremony at Chinggis Khaan International Airport.
            The Ministry of Defence said equipment for the mission had been upgraded.
            """,
        ),
        _t(
            """
            Defence ministry plans {amount} purchase of {equipment} from {company}
            Mongolia's armed forces to receive {equipment} from {partner} under {codename} plan
            """,
            """
            Mongolia's Ministry of Defence plans to buy {equipment} worth {amount} from {partner_adj} suppliers, according to a procurement plan presented to lawmakers on {weekday}.
            The Mongolian Armed Forces will receive {equipment} from {partner} under a military cooperation agreement, the defence ministry said.
            """,
            """
            The purchase is part of a programme to modernise equipment dating from the Soviet era.
            The defence budget for this year is {amount}, about {pct2} percent of GDP.
            Lawmakers on the security and foreign policy committee asked for details of the tender.
            Deliveries are expected to start in {year}.
            The ministry said training for crews would take place in {partner} and in Ulaanbaatar.
            Analysts said the equipment would mainly be used for border patrols and disaster response.
            """,
        ),
        _t(
            """
            Mongolia and {partner} hold {codename} defence talks in Ulaanbaatar
            Military cooperation with {partner} to expand under {codename} programme
            """,
            """
            Defence officials from Mongolia and {partner} met in Ulaanbaatar on {weekday} for annual consultations on military cooperation, training and peacekeeping.
            Mongolia and {partner} agreed to expand military cooperation, including officer exchanges and joint training, after talks between their defence ministries.
            """,
            """
            The sides discussed joint exercises, military education and border security.
            Chief of the General Staff Sunreviin Ganbyamba took part in the talks.
            A plan for military cooperation for the next {n4} years was signed.
            Mongolian officers have studied at military academies in {partner} for decades.
            The talks also covered cooperation in military medicine and cyber defence.
            The next round of consultations will take place in {capital}.
            """,
        ),
    ],
}

_BACKGROUND: dict[str, tuple[str, ...]] = {
    "security": (
        "Mongolia's emergency services are stretched thin across a territory the size of Western Europe.",
        "Police statistics show that reported crimes rose slightly last year, mostly fraud and theft.",
        "The country's long borders with China and Russia are patrolled by a small force.",
        "Cyber incidents have become more frequent since government services moved online.",
    ),
    "economy": (
        "Mining accounts for about a quarter of Mongolia's economy and most of its exports.",
        "China buys the vast majority of Mongolia's exports, mainly coal and copper.",
        "The government has tried for years to attract investment outside the mining sector.",
        "Landlocked between Russia and China, Mongolia depends on its neighbours for transit.",
    ),
    "diplomacy": (
        "Mongolia's foreign policy seeks balanced relations with Russia and China while building ties with third neighbours.",
        "The country has hosted several international conferences in recent years.",
        "Ulaanbaatar maintains diplomatic relations with both Koreas.",
        "Mongolia declared itself a nuclear-weapon-free zone in 1992.",
    ),
    "defense": (
        "Mongolia's armed forces number around ten thousand active personnel.",
        "Peacekeeping has become the main mission of Mongolia's military since the early 2000s.",
        "The country takes part in exercises with both its neighbours and third neighbours.",
        "Much of the army's heavy equipment was supplied by the Soviet Union.",
    ),
}

_FILLER = (
    "Officials did not say when a final decision would be made.",
    "The announcement came a day after officials in {city2} met representatives of {company}.",
    "Details of the plan were first reported by local media on {weekday2}.",
    "The ministry said it would publish more information on its website.",
    "Analysts said the move reflects a broader shift in government priorities.",
    "A spokesperson for {company} declined to comment.",
    "The issue is expected to come up at the next cabinet meeting.",
    "Residents interviewed in {city2} gave mixed reactions.",
    "It was not immediately clear how the measures would be funded.",
    "The figures are preliminary and may be revised next month.",
    "Several lawmakers said they had not been consulted in advance.",
    "The government has faced criticism over similar projects in the past.",
    "Experts at the National University of Mongolia said more data was needed.",
    "The {agency} said it was monitoring the situation closely.",
    "A similar arrangement was tried in {year0} but abandoned after a year.",
    "Business groups in {city2} welcomed the news.",
    "Local officials said the impact on households would be limited.",
    "The plan will be reviewed again in {month2}.",
    "The statement did not give a reason for the delay.",
    "Observers said the timing was significant ahead of the summer season.",
    "More than {n5} people took part in a public consultation on the issue.",
    "The latest figures were released by the National Statistics Office.",
    "Officials in {aimag2} said they had received no instructions yet.",
    "Earlier this year, a similar case involving {company2} drew public attention.",
    "According to figures published by the ministry last month, the number of applications has almost doubled since {year0}, although officials say many of them were incomplete.",
    "Representatives of {company2} said they had submitted their own proposal in {month2} but had not yet received a reply from the authorities.",
    "The governor of {aimag2} told local television that the province had been asking for support for several years without a clear answer from the capital.",
    "Critics argue that decisions of this kind are too often made behind closed doors, with little time for public comment or independent review.",
    "The cabinet is due to discuss a wider package of measures in {month2}, which could include changes to the tax code and new rules for state procurement.",
    "Independent economists cautioned that the official estimates rest on optimistic assumptions about commodity prices and the pace of construction.",
    "Under the current law, any agreement of this size must be reviewed by the standing committee before it can be signed by the responsible minister.",
    "Officials in {city2} said that roads, schools and hospitals in the area would benefit if the plan went ahead as described.",
    "The opposition has promised to raise the matter when parliament reconvenes, arguing that the public has a right to see the full documents.",
    "Public opinion surveys conducted last year suggested that most residents support the idea in principle but doubt that it will be carried out on time.",
    "Officials acknowledged that staff shortages and a lack of equipment had slowed similar work in remote soums, where distances between settlements are large.",
    "The project team said it had held {n4} meetings with herders and local residents to explain what the changes would mean for them.",
    "International partners, including development banks, have offered technical assistance but have not committed new financing.",
    "The measure was first proposed in {year0}, but it stalled after a change of government and disagreements between ministries over who would pay for it.",
    "A report by the National Audit Office last year found weaknesses in how similar programmes were monitored and how their results were reported.",
    "Commentators on social media questioned whether the timetable was realistic, pointing to delays on other large projects in recent years.",
    "In a statement posted on its website, {company2} said it would cooperate fully with the authorities and respect any decision they take.",
    "The winter months, when temperatures can fall below minus thirty degrees, make outdoor work difficult for much of the year.",
    "Officials stressed that the figures were still being checked and that a fuller account would be given to the relevant parliamentary committee.",
    "Local journalists who visited the site this week described long queues and said information for residents was hard to find.",
    "The authorities have set up a telephone hotline and promised to answer questions from the public within {n4} working days.",
    "Observers in {city2} said the outcome would be watched closely by investors who have been waiting for clearer rules.",
    "Several non-governmental organisations said they would send observers and publish their own assessment of the results.",
    "The ministry said that {n5} households had already been registered and that the rest would be contacted over the coming weeks.",
    "Some residents said they learned about the decision from social media before any official announcement was made.",
)

_QUOTES = (
    '"We are working to resolve this as quickly as possible," said {official}, a senior official.',
    '"This is an important step for the country," {official} told reporters in Ulaanbaatar.',
    '"The public deserves a clear explanation," said {official}, a lawmaker.',
    '"We expect results within {n4} months," {official} said.',
    '"There is still a lot of work ahead," {official} said after the meeting.',
)

_RU: dict[str, tuple[str, ...]] = {
    "titles": (
        "Монголия и {partner_ru}: новые договорённости о сотрудничестве",
        "В {city_ru} обсудили вопросы {field_ru}",
        "Правительство Монголии приняло решение по проекту {project}",
    ),
    "leads": (
        "Монголия и {partner_ru} договорились расширить сотрудничество в сфере {field_ru}, сообщили в {city_ru}.",
        "Правительство Монголии в {weekday_ru} рассмотрело вопросы {field_ru} и проект {project}.",
    ),
    "body": (
        "По словам официальных лиц, соглашение будет подписано до конца года.",
        "Эксперты считают, что это решение укрепит позиции страны в регионе.",
        "В Великом государственном хурале этот вопрос обсуждался несколько раз.",
        "Компания {company} участвует в проекте с прошлого года.",
        "Власти {city_ru} заявили, что ситуация находится под контролем.",
        "Объём торговли между странами в прошлом году составил {amount}.",
        "Представители бизнеса приветствовали эту новость.",
        "Следующая встреча сторон запланирована на осень.",
    ),
}

_MN: dict[str, tuple[str, ...]] = {
    "titles": (
        "Монгол Улс {partner_mn} хамтын ажиллагаагаа өргөжүүлнэ",
        "{city_mn} хотод {project} төслийн талаар хэлэлцлээ",
    ),
    "leads": (
        "Монгол Улс {partner_mn} хамтын ажиллагаагаа өргөжүүлэх талаар тохиролцлоо гэж Засгийн газраас мэдээллээ.",
        "{city_mn} хотод {project} төслийн явцын талаар албаны хүмүүс хэлэлцлээ.",
    ),
    "body": (
        "Энэ асуудлыг Улсын Их Хурлаар хэлэлцэх төлөвтэй байна.",
        "Төслийг {company} компани хэрэгжүүлж байгаа юм.",
        "Албаны хүмүүс ажлыг энэ онд дуусгана гэж мэдэгдэв.",
        "Иргэд энэ шийдвэрийг дэмжиж байгаагаа илэрхийлжээ.",
        "Хоёр улсын худалдааны хэмжээ өнгөрсөн онд өсчээ.",
        "Дараагийн уулзалт намар болно.",
    ),
}

_IRRELEVANT = (
    _t(
        """
        {foreign_city} club wins {ordinal} league title in a row
        Late goal gives {foreign_city} a dramatic cup final win
        """,
        """
        The team from {foreign_city} won the national league title for the {ordinal} season in a row on {weekday}, beating their closest rivals by {n4} points.
        A goal in the final minute gave {foreign_city} a 2-1 win in the cup final on {weekday}, in front of {n1} spectators.
        """,
        """
        The coach said the squad had worked hard all season.
        Fans celebrated in the streets until late at night.
        The club will now prepare for the continental competition in {month2}.
        Injuries to two key players had raised doubts earlier in the season.
        The league's top scorer finished with {n4} goals.
        Ticket sales for next season open in {month2}.
        """,
    ),
    _t(
        """
        Tech firm in {foreign_city} reports {pct} percent rise in revenue
        Start-up from {foreign_city} raises {amount} for battery plant
        """,
        """
        A technology company based in {foreign_city} reported a {pct} percent rise in quarterly revenue on {weekday}, driven by demand for cloud services.
        A start-up from {foreign_city} raised {amount} from investors to build a battery factory, it said on {weekday}.
        """,
        """
        Shares rose in early trading after the results were published.
        The company plans to hire {n3} engineers over the next year.
        Analysts said competition in the sector remained intense.
        The chief executive said the firm would expand into new markets.
        Costs for components have fallen since last year.
        The factory is due to open in {year}.
        """,
    ),
    _t(
        """
        Heatwave brings record temperatures to {foreign_city}
        Storm cuts power to {n1} homes around {foreign_city}
        """,
        """
        Temperatures in {foreign_city} reached a record high on {weekday}, and authorities urged residents to stay indoors during the afternoon.
        A storm with strong winds cut power to about {n1} homes around {foreign_city} overnight, the local utility said on {weekday}.
        """,
        """
        Meteorologists expect conditions to ease by the weekend.
        Schools in the region closed early as a precaution.
        Emergency services responded to hundreds of calls.
        Farmers said crops had been damaged in several districts.
        The city opened cooling centres in libraries and community halls.
        Repairs are expected to take several days.
        """,
    ),
    _t(
        """
        Film festival in {foreign_city} opens with record number of entries
        Museum in {foreign_city} reopens after renovation
        """,
        """
        The annual film festival in {foreign_city} opened on {weekday} with {n3} films in competition, the most in its history.
        The city museum in {foreign_city} reopened to visitors on {weekday} after a renovation that lasted {n4} years.
        """,
        """
        Organisers said tickets for the opening weekend sold out within hours.
        The programme includes works from more than {n4} countries.
        Critics praised the new exhibition spaces.
        Entry will be free for students during the first month.
        The renovation cost {amount}, funded mainly by the city.
        The festival closes with an awards ceremony in two weeks.
        """,
    ),
)

# A mention in a list: the country appears once among many, the item is not about it.
_LIST_MENTION = (
    "Delegations from Kazakhstan, Uzbekistan, Mongolia, Kyrgyzstan and Tajikistan also attended the meeting in {foreign_city}.",
    "The survey covered {n4} countries, including Chile, Kenya, Mongolia, Peru and Vietnam.",
)

_FOREIGN_CITIES = [
    "Lisbon",
    "Nairobi",
    "Lima",
    "Osaka",
    "Tbilisi",
    "Porto",
    "Krakow",
    "Valencia",
    "Montreal",
    "Adelaide",
    "Bergen",
    "Cordoba",
]
_GOODS = ["cashmere", "fuel", "cigarettes", "copper concentrate", "timber", "livestock", "electronics"]
_ISSUES = [
    "the coal theft scandal",
    "air pollution in the capital",
    "rising fuel prices",
    "a land allocation scandal",
]
_FIELDS = ["energy", "education", "climate change", "transport", "public health", "digital government"]
_FIELDS_RU = ["энергетики", "образования", "транспорта", "здравоохранения", "торговли"]
_EQUIPMENT = ["transport helicopters", "armoured vehicles", "air defence radars", "field hospitals", "drones"]
_AGENCIES = [
    "General Intelligence Agency",
    "National Emergency Management Agency",
    "Communications Regulatory Commission",
]
_PROJECT_KINDS = [
    "copper project",
    "solar park",
    "logistics hub",
    "power plant",
    "housing project",
    "gold project",
]
_COMPANY_KINDS = ["Resources LLC", "Logistics", "Energy", "Holding", "Mining Group", "Construction"]
_CODEWORDS = ["Eagle", "Shield", "Bridge", "Horizon", "Partner", "Accord", "Steppe", "Falcon"]
_WEEKDAYS_RU = ["понедельник", "вторник", "среду", "четверг", "пятницу"]

# --------------------------------------------------------------------------- models

Kind = str
"""``original`` (an outlet's own article), ``copy`` (a syndicated re-publication) or ``irrelevant``."""


@dataclass(frozen=True)
class Outlet:
    """A news site: its name, language, home country and how its pages and feeds look."""

    index: int
    name: str
    slug: str
    language: str
    country: str | None
    reliability: str
    layout: str
    feed_format: str
    wire: bool


@dataclass(frozen=True)
class Piece:
    """One article as an outlet published it."""

    outlet: Outlet
    number: int
    slug: str
    title: str
    paragraphs: tuple[str, ...]
    published: datetime
    author: str
    language: str
    kind: Kind
    event: int | None = None
    bucket: str | None = None
    copy_of: tuple[int, int] | None = None
    tags: tuple[str, ...] = field(default_factory=tuple)

    @property
    def lead(self) -> str:
        return self.paragraphs[0]

    @property
    def text(self) -> str:
        return "\n\n".join(self.paragraphs)


@dataclass
class _Event:
    index: int
    bucket: str
    topic: _Topic
    when: datetime
    slots: dict[str, str]
    words: tuple[str, ...]
    words_cyr: tuple[str, ...]


# --------------------------------------------------------------------------- generation

_OUTLET_WORDS = (
    "Steppe Herald, Gobi Business Daily, Khangai Times, Northern Corridor News, Eurasia Wire, "
    "Blue Sky Post, Altai Observer, Orkhon Review, Tuul Evening News, Kherlen Courier, Asia Frontier Report, "
    "Selenge Dispatch, Silk Road Monitor, Capital City Gazette, Plateau Weekly, Continental Briefing, "
    "Frontier Economic Journal, Nomad Press Agency, Pacific Rim Wire, Highland Bulletin"
).split(", ")
_OUTLET_WORDS_RU = ["Байкальский вестник", "Евразия Сегодня", "Сибирское обозрение", "Восточный курьер"]
_OUTLET_WORDS_MN = ["Өглөөний мэдээ", "Хөх тэнгэр сонин", "Талын дуу"]

_LAYOUTS = ("cms", "wordpress", "legacy", "portal")
_FEED_FORMATS = ("rss", "atom", "rdf")
_TRANSLIT = dict(
    zip(
        "абвгдеёжзийклмнопрстуфхцчшщъыьэюяөү",
        "a b v g d e e zh z i i k l m n o p r s t u f kh ts ch sh sch - y - e yu ya o u".split(),
        strict=True,
    )
)


def slugify(text: str, limit: int = 8) -> str:
    """An ASCII URL slug from a title in Latin or Cyrillic script."""
    out = []
    for ch in text.lower():
        if ch.isascii():
            out.append(ch if ch.isalnum() else " ")
        else:
            out.append(_TRANSLIT.get(ch, " ").replace("-", ""))
    words = "".join(out).split()
    return "-".join(words[:limit]) or "item"


def _pseudo_name(rng: random.Random, parts: int = 2) -> str:
    return "".join(rng.choice(_SYLLABLES) for _ in range(parts)).capitalize()


def make_outlets(count: int, rng: random.Random) -> list[Outlet]:
    """``count`` outlets: mostly English, every 8th Russian and every 11th Mongolian; some wires."""
    outlets: list[Outlet] = []
    for i in range(count):
        if i % 8 == 5:
            language, pool = "ru", _OUTLET_WORDS_RU
        elif i % 11 == 7:
            language, pool = "mn", _OUTLET_WORDS_MN
        else:
            language, pool = "en", _OUTLET_WORDS
        base = pool[i % len(pool)]
        name = base if i < len(pool) else f"{base} {i // len(pool) + 1}"
        domestic = language == "mn" or (language == "en" and rng.random() < 0.45)
        outlets.append(
            Outlet(
                index=i,
                name=name,
                slug=f"{slugify(name, 4)}-{i}",
                language=language,
                country="MN" if domestic else None,
                reliability=rng.choice("AABBBCCD"),
                layout=_LAYOUTS[(i + rng.randrange(2)) % len(_LAYOUTS)],
                feed_format=_FEED_FORMATS[rng.randrange(len(_FEED_FORMATS))],
                wire=language == "en" and i % 6 == 4,
            )
        )
    return outlets


def _ordinal(n: int) -> str:
    return {1: "first", 2: "second", 3: "third", 4: "fourth", 5: "fifth", 6: "sixth"}.get(n, f"{n}th")


def _amount(rng: random.Random) -> str:
    if rng.random() < 0.5:
        return f"USD {rng.randrange(2, 900)} million"
    return f"{rng.randrange(3, 950)} billion tugriks"


def _slots(rng: random.Random, when: datetime) -> dict[str, str]:
    """Everything an event's templates can name; the invented names make each event distinctive."""
    partner, capital, adj = rng.choice(_PARTNERS)
    company = f"{_pseudo_name(rng)} {rng.choice(_COMPANY_KINDS)}"
    return {
        "agency": rng.choice(_AGENCIES),
        "company": company,
        "company2": f"{_pseudo_name(rng)} {rng.choice(_COMPANY_KINDS)}",
        "project": f"{_pseudo_name(rng)}-{_pseudo_name(rng, 1)} {rng.choice(_PROJECT_KINDS)}",
        "city": rng.choice(_CITIES),
        "city2": rng.choice(_CITIES),
        "aimag": rng.choice(_AIMAGS),
        "aimag2": rng.choice(_AIMAGS),
        "crossing": rng.choice(_CROSSINGS),
        "mine": rng.choice(_MINES),
        "leader": rng.choice(_LEADERS),
        "partner": partner,
        "capital": capital,
        "partner_adj": adj,
        "goods": rng.choice(_GOODS),
        "issue": rng.choice(_ISSUES),
        "field": rng.choice(_FIELDS),
        "equipment": rng.choice(_EQUIPMENT),
        "official": f"{_pseudo_name(rng)[0]}. {_pseudo_name(rng)}",
        "name": f"{_pseudo_name(rng)[0]}. {_pseudo_name(rng)}",
        "soum": f"{_pseudo_name(rng)} soum",
        "codename": f"{_pseudo_name(rng)} {rng.choice(_CODEWORDS)}-{when.year % 100}",
        "amount": _amount(rng),
        "n1": f"{rng.randrange(1, 900) * 1000:,}",
        "n2": str(rng.randrange(2, 40)),
        "n3": str(rng.randrange(20, 900)),
        "n4": str(rng.randrange(3, 15)),
        "n5": f"{rng.randrange(2, 60) * 100:,}",
        "pct": str(rng.randrange(3, 40)),
        "pct2": f"{rng.randrange(1, 12)}.{rng.randrange(10)}",
        "ordinal": _ordinal(rng.randrange(2, 7)),
        "weekday": _WEEKDAYS[when.weekday()],
        "weekday2": rng.choice(_WEEKDAYS),
        "month": _MONTHS[(when.month - 2) % 12],
        "month2": _MONTHS[(when.month + rng.randrange(1, 4) - 1) % 12],
        "year": str(when.year + rng.randrange(1, 4)),
        "year0": str(when.year - rng.randrange(2, 9)),
        "foreign_city": rng.choice(_FOREIGN_CITIES),
        "city_ru": rng.choice(_CITIES_CYR),
        "city_mn": rng.choice(_CITIES_CYR[1:]),
        "partner_ru": rng.choice(_PARTNERS_RU),
        "partner_mn": rng.choice(_PARTNERS_MN),
        "field_ru": rng.choice(_FIELDS_RU),
        "weekday_ru": rng.choice(_WEEKDAYS_RU),
    }


def _paragraphs(rng: random.Random, sentences: list[str]) -> list[str]:
    out: list[str] = []
    i = 0
    while i < len(sentences):
        n = rng.choice((1, 2, 2, 3, 3, 4))
        out.append(" ".join(sentences[i : i + n]))
        i += n
    return out


def _piece(
    outlet: Outlet, number: int, title: str, paragraphs: Sequence[str], when: datetime, **rest: Any
) -> Piece:
    slug = f"{slugify(title)}-{outlet.index}{number:04d}"
    return Piece(outlet, number, slug, title, tuple(paragraphs), when, **rest)


def _fill(template: str, slots: dict[str, str]) -> str:
    return template.format_map(slots)


class Writer:
    """Writes the articles of a set of outlets; one instance per corpus, one rng for all."""

    def __init__(self, rng: random.Random, start: datetime, days: int) -> None:
        self.rng = rng
        self.start = start
        self.days = days

    def _when(self) -> datetime:
        return self.start + timedelta(seconds=self.rng.randrange(self.days * 86400))

    def _clip(self, when: datetime) -> datetime:
        return min(when, self.start + timedelta(days=self.days) - timedelta(minutes=1))

    def event(self, index: int) -> _Event:
        rng = self.rng
        bucket = rng.choice(("security", "security", "economy", "economy", "diplomacy", "defense"))
        when = self._when()
        topic = rng.choice(TOPICS[bucket])
        slots = _slots(rng, when)
        return _Event(
            index, bucket, topic, when, slots, babble("latin").topical(rng), babble("cyrillic").topical(rng)
        )

    def _author(self, outlet: Outlet) -> str:
        if outlet.language == "en" and outlet.country is None:
            return self.rng.choice(_ENGLISH_NAMES)
        return f"{_pseudo_name(self.rng)[0]}. {_pseudo_name(self.rng)}"

    def original(self, outlet: Outlet, number: int, ev: _Event) -> Piece:
        """The outlet's own article about an event: its own title, lead and selection of facts."""
        rng = self.rng
        slots = dict(ev.slots)
        # Each outlet quotes its own official and adds its own colour.
        slots["official"] = f"{_pseudo_name(rng)[0]}. {_pseudo_name(rng)}"
        slots["city2"] = rng.choice(_CITIES)
        slots["weekday2"] = rng.choice(_WEEKDAYS)
        if outlet.language in ("ru", "mn"):
            bank = _RU if outlet.language == "ru" else _MN
            title = _fill(rng.choice(bank["titles"]), slots)
            facts = rng.sample(bank["body"], k=3)
            lead = _fill(rng.choice(bank["leads"]), slots)
            stop = _STOP_RU if outlet.language == "ru" else _STOP_MN
            tail = [_fill(x, slots) for x in facts[1:]]
            tail += babble("cyrillic").sentences(rng, stop, ev.words_cyr, rng.randrange(10, 26))
            rng.shuffle(tail)
            hook = babble("cyrillic").sentences(rng, stop, ev.words_cyr, 1, topical_share=0.35)
            sentences = [lead, *hook, _fill(facts[0], slots), *tail]
        else:
            title = _fill(rng.choice(ev.topic.titles), slots)
            facts = rng.sample(ev.topic.body, k=rng.randrange(2, 5))
            lead = _fill(rng.choice(ev.topic.leads), slots)
            extra = [rng.choice(_QUOTES), rng.choice(_BACKGROUND[ev.bucket])]
            extra += rng.sample(_FILLER, k=rng.randrange(0, 3))
            tail = [_fill(x, slots) for x in facts[1:] + extra]
            tail += babble("latin").sentences(rng, _STOP_EN, ev.words, rng.randrange(12, 32))
            rng.shuffle(tail)
            # Real leads name what is specific to the development; the event's own words do that here.
            hook = babble("latin").sentences(rng, _STOP_EN, ev.words, 1, topical_share=0.35)
            sentences = [lead, *hook, _fill(facts[0], slots), *tail]
        when = self._clip(ev.when + timedelta(minutes=rng.randrange(0, 36 * 60)))
        return _piece(
            outlet,
            number,
            title,
            _paragraphs(rng, sentences),
            when,
            author=self._author(outlet),
            language=outlet.language,
            kind="original",
            event=ev.index,
            bucket=ev.bucket,
            tags=(ev.bucket, ev.slots["city"]),
        )

    def irrelevant(self, outlet: Outlet, number: int) -> Piece:
        """An item not about the country; one in four names it once in a list."""
        rng = self.rng
        when = self._when()
        slots = _slots(rng, when)
        topic = rng.choice(_IRRELEVANT)
        title = _fill(rng.choice(topic.titles), slots)
        tail = [_fill(x, slots) for x in rng.sample(topic.body, k=rng.randrange(2, 5))]
        tail += babble("latin").sentences(rng, _STOP_EN, (), rng.randrange(10, 24))
        rng.shuffle(tail)
        sentences = [_fill(rng.choice(topic.leads), slots), *tail]
        if rng.random() < 0.25:
            sentences.insert(2, _fill(rng.choice(_LIST_MENTION), slots))
        return _piece(
            outlet,
            number,
            title,
            _paragraphs(rng, sentences),
            when,
            author=self._author(outlet),
            language="en",
            kind="irrelevant",
            tags=("world",),
        )

    def copy(self, outlet: Outlet, number: int, source: Piece) -> Piece:
        """A syndicated re-publication: the same text with light edits and an attribution."""
        rng = self.rng
        title = source.title
        edit = rng.randrange(3)
        if edit == 0:
            title = re.sub(r"\s+", " ", title.replace(",", "")).strip()
        elif edit == 1:
            title = f"{title} - {source.outlet.name}"
        paragraphs = list(source.paragraphs)
        if len(paragraphs) > 4 and rng.random() < 0.6:
            paragraphs.pop(rng.randrange(2, len(paragraphs)))
        credit = {
            "en": f"This article was first published by {source.outlet.name}.",
            "ru": f"Материал впервые опубликован {source.outlet.name}.",
            "mn": f"Эх сурвалж: {source.outlet.name}.",
        }[source.language]
        paragraphs.append(credit)
        when = self._clip(source.published + timedelta(minutes=rng.randrange(20, 12 * 60)))
        return _piece(
            outlet,
            number,
            title,
            paragraphs,
            when,
            author=source.author,
            language=source.language,
            kind="copy",
            event=source.event,
            bucket=source.bucket,
            copy_of=(source.outlet.index, source.number),
            tags=source.tags,
        )


def write_pieces(
    outlets: Sequence[Outlet],
    per_outlet: Sequence[int],
    rng: random.Random,
    start: datetime,
    days: int,
) -> list[list[Piece]]:
    """``per_outlet[i]`` articles for outlet ``i``, newest first.

    About 18 % are irrelevant (more at foreign outlets), 12 % syndicated copies of
    another outlet's article in the same language (wires are copied most), the rest
    originals about events, a few big events covered by many outlets and most by one
    to three.
    """
    writer = Writer(rng, start, days)
    plan: list[list[str]] = []
    for outlet, n in zip(outlets, per_outlet, strict=True):
        p_irrelevant = 0.10 if outlet.country else 0.28
        kinds = []
        for _ in range(n):
            r = rng.random()
            if r < p_irrelevant and outlet.language == "en":
                kinds.append("irrelevant")
            elif r < p_irrelevant + 0.12 and not outlet.wire:
                kinds.append("copy")
            else:
                kinds.append("original")
        plan.append(kinds)
    n_originals = sum(k.count("original") for k in plan)
    events = [writer.event(i) for i in range(max(1, round(n_originals / 2.4)))]
    pieces: list[list[Piece | None]] = [[None] * len(kinds) for kinds in plan]
    for outlet, kinds in zip(outlets, plan, strict=True):
        covered: list[int] = []
        for number, kind in enumerate(kinds):
            if kind == "irrelevant":
                pieces[outlet.index][number] = writer.irrelevant(outlet, number)
            elif kind == "original":
                # Skewed towards low indices: a few developments everyone covers.
                pick = int(len(events) * rng.random() ** 1.4)
                if pick in covered:
                    pick = rng.randrange(len(events))
                covered.append(pick)
                pieces[outlet.index][number] = writer.original(outlet, number, events[pick])
    for outlet, kinds in zip(outlets, plan, strict=True):
        for number, kind in enumerate(kinds):
            if kind != "copy":
                continue
            candidates = [
                p
                for other in outlets
                if other.index != outlet.index and other.language == outlet.language
                for p in pieces[other.index][: 40 if other.wire else 8]
                if p is not None and p.kind == "original"
            ]
            wires = [p for p in candidates if p.outlet.wire]
            source = rng.choice(wires or candidates) if candidates else None
            if source is None:
                pieces[outlet.index][number] = writer.original(outlet, number, rng.choice(events))
            else:
                pieces[outlet.index][number] = writer.copy(outlet, number, source)
    result: list[list[Piece]] = []
    for row in pieces:
        done = [p for p in row if p is not None]
        done.sort(key=lambda p: (p.published, p.number), reverse=True)
        result.append(done)
    return result
