"""Language detection on tweet-like English, Dutch, German and French posts."""

from __future__ import annotations

import pytest

from routing.language import LANGUAGES, UNDETERMINED, detect_language, language_scores

ENGLISH = [
    "@united my bag is still not here, been waiting 3 hours #fail 😡 https://t.co/abc123",
    "Thanks @KLM for the upgrade, the crew was amazing! ✈️❤️",
    "Why is my order always late? Third time this month @bolcom",
    "@AmericanAir can you help me rebook? My flight got cancelled",
    "Worst customer service ever. Nobody answers the phone 📞 #neveragain",
    "Just landed in Amsterdam, great flight with @KLM 😊",
    "@Ziggo my internet has been down since this morning, any update?",
    "I have been on hold for 45 minutes, this is ridiculous",
    "Where is my package?? Tracking says delivered but it is not here https://bit.ly/x",
    "Love the new app update, so much faster now 👍",
    "@coolblue the washing machine arrived broken, what should I do?",
    "Can someone please tell me why my refund takes so long",
    "@NS_online the train to Utrecht is delayed again, thanks for nothing",
    "Really happy with how quickly you fixed this, thank you!",
    "Does anyone know if the store is open on Sunday? #help",
    "lol the chat bot just told me to turn it off and on again 🙄",
    "@PostNL they left my parcel with a neighbour I have never met",
    "Still no answer to my email from last week, what is going on",
    "My card was charged twice for the same order @Zalando",
    "Booked a room for two nights and they gave it to someone else 😤",
]

DUTCH = [
    "@NS_online Mijn trein is weer 20 minuten te laat, echt belachelijk 😤 #ns",
    "Bedankt @Coolblue voor de snelle levering! 👍",
    "@KPN ik heb al drie dagen geen internet, wanneer wordt dit opgelost?",
    "Waarom duurt het zo lang voordat mijn pakket bezorgd wordt? @PostNL",
    "Heel blij met de nieuwe telefoon, alles werkt perfect 😊",
    "@bolcom mijn bestelling is nog steeds niet aangekomen https://t.co/xyz",
    "Wat een slechte klantenservice, niemand neemt de telefoon op #klm",
    "Kan iemand mij vertellen hoe ik mijn abonnement kan opzeggen?",
    "@Ziggo de tv doet het weer niet, graag een monteur sturen",
    "Super vriendelijk geholpen door jullie medewerker, dank je wel!",
    "Ik wacht al een uur in de wachtrij, dit is toch niet normaal",
    "@ANWB top service vandaag langs de snelweg, bedankt 🙏",
    "Het pakketje is bij de buren afgeleverd maar die zijn er niet",
    "Mijn geld is twee keer afgeschreven, wie kan mij helpen? @ING_news",
    "Weer vertraging bij Schiphol, we staan hier al sinds vanochtend ✈️",
    "Fijn dat jullie zo snel reageren, het probleem is opgelost",
    "@Vodafone_NL waarom krijg ik steeds een foutmelding in de app?",
    "Dit is de derde keer dat mijn bestelling verkeerd is 😡 #fail",
    "Hoe laat gaat de winkel morgen open? Ik wil iets ruilen",
    "@Albert_Heijn de bezorger was veel te laat en de helft ontbrak",
]

GERMAN = [
    "@DB_Bahn Der Zug hat schon wieder eine Stunde Verspätung, das ist nicht normal",
    "Ich warte seit drei Tagen auf meine Bestellung, warum dauert das so lange?",
    "Vielen Dank für die schnelle Hilfe, alles funktioniert wieder 👍",
    "@Telekom_hilft mein Internet ist weg und keiner geht ans Telefon",
    "Leider ist das Paket immer noch nicht angekommen #dhl",
]

FRENCH = [
    "@SNCF encore un train en retard, c'est toujours la même chose 😡",
    "Merci beaucoup pour votre aide, le problème est résolu !",
    "Je n'ai toujours pas reçu ma commande, pourquoi est-ce si long ?",
    "@AirFrance mon vol a été annulé et personne ne répond au téléphone",
    "Très déçu par le service client, je ne commanderai plus jamais chez vous",
]


def _accuracy(texts: list[str], language: str) -> float:
    return sum(detect_language(t)[0] == language for t in texts) / len(texts)


def test_english_tweets_are_detected_as_english() -> None:
    # Given English tweets with handles, hashtags, URLs and emoji
    # When each is detected
    # Then at least 90% come out as English
    assert _accuracy(ENGLISH, "en") >= 0.9


def test_dutch_tweets_are_detected_as_dutch() -> None:
    assert _accuracy(DUTCH, "nl") >= 0.9


@pytest.mark.parametrize("text", GERMAN + FRENCH)
def test_german_and_french_are_not_taken_for_english_or_dutch(text: str) -> None:
    assert detect_language(text)[0] not in {"en", "nl"}


def test_german_and_french_are_recognized() -> None:
    assert _accuracy(GERMAN, "de") >= 0.8
    assert _accuracy(FRENCH, "fr") >= 0.8


def test_spanish_is_recognized() -> None:
    assert detect_language("¿Por qué mi pedido no ha llegado todavía? @Iberia 😡")[0] == "es"


@pytest.mark.parametrize(
    "text",
    ["", "   ", "😀😀🎉", "@united @KLM", "https://t.co/abc 123 456", "#fail #klm", "!!!???"],
)
def test_text_without_language_evidence_is_undetermined(text: str) -> None:
    assert detect_language(text) == (UNDETERMINED, 0.0)


def test_confidence_grows_with_evidence() -> None:
    # Given a one-word and a full-sentence English post
    short_lang, short_conf = detect_language("thanks")
    long_lang, long_conf = detect_language("thanks for the help, it works again now")
    # Then both are English, the longer one with more confidence
    assert (short_lang, long_lang) == ("en", "en")
    assert 0.0 < short_conf < long_conf <= 1.0


def test_handles_and_hashtags_do_not_vote() -> None:
    # Given an English sentence wrapped in Dutch-looking handles and hashtags
    text = "@mijnbestelling #vertraging #waarom the delivery is late again"
    # Then only the sentence counts
    assert detect_language(text)[0] == "en"
    assert language_scores("@het @een #niet #wij")["nl"] == 0.0


def test_detection_is_deterministic_and_bounded() -> None:
    for text in ENGLISH + DUTCH + GERMAN + FRENCH:
        language, confidence = detect_language(text)
        assert (language, confidence) == detect_language(text)
        assert language in (*LANGUAGES, UNDETERMINED)
        assert 0.0 <= confidence <= 1.0


def test_exact_tie_is_undetermined() -> None:
    # "is" and "in" are function words in both English and Dutch
    assert detect_language("is in")[0] == UNDETERMINED


@pytest.mark.parametrize(
    "text",
    [
        "Zeer gezellig en lekker eten! 😋",
        "Vriendelijke bediening, prima prijs #aanrader",
        "@ContosoNL storing al de hele ochtend, zenders haperen",
        "Heerlijk geholpen door de monteur https://contoso.example/x",
    ],
)
def test_short_dutch_posts_are_dutch(text: str) -> None:
    assert detect_language(text)[0] == "nl"


@pytest.mark.parametrize(
    "text",
    ["thx guys, awesome service again 🙌", "@JetBlue seriously impressive crew tonight"],
)
def test_short_english_posts_are_english(text: str) -> None:
    assert detect_language(text)[0] == "en"
