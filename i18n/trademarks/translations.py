"""Finnish and Swedish for trademark protection. ``T`` fills the trademarks catalogue
(``python i18n/fill.py trademarks i18n/trademarks/translations.py`` after ``i18n/tool.py
extract trademarks``); ``ELSEWHERE`` are the messages the feature added to other areas'
files (the claims step of the domains' register page, the WHMCS error, the white-label
mails), appended to those catalogues by ``python i18n/trademarks/translations.py``."""

import sys
from pathlib import Path

T = {
    "%(label)s is not a domain name label.": (
        "%(label)s ei kelpaa verkkotunnuksen osaksi.",
        "%(label)s är inte en giltig del av ett domännamn."),
    "%(mark)s is now protected.": (
        "%(mark)s on nyt suojattu.",
        "%(mark)s är nu skyddat."),
    "%(name)s matches the protected mark %(mark)s (%(holder)s). Show the claims notice to the registrant and send claims_ack with its id.": (
        "%(name)s vastaa suojattua tavaramerkkiä %(mark)s (%(holder)s). Näytä "
        "tavaramerkki-ilmoitus rekisteröijälle ja lähetä sen tunniste kentässä claims_ack.",
        "%(name)s motsvarar det skyddade varumärket %(mark)s (%(holder)s). Visa "
        "varumärkesmeddelandet för registranten och skicka dess id i claims_ack."),
    "%(price)s a month": ("%(price)s kuukaudessa", "%(price)s per månad"),
    "%(price)s a year": ("%(price)s vuodessa", "%(price)s per år"),
    "(VAT included; the first period is charged now, later ones when they start, until you cancel.)": (
        "(Sis. ALV; ensimmäinen jakso veloitetaan nyt ja seuraavat niiden alkaessa, kunnes "
        "peruutat.)",
        "(Inkl. moms; den första perioden debiteras nu och följande när de börjar, tills du "
        "säger upp.)"),
    "A price change cannot start in the past.": (
        "Hinnanmuutos ei voi alkaa menneisyydessä.",
        "En prisändring kan inte börja i det förflutna."),
    "Action": ("Toimenpide", "Åtgärd"),
    "Alert languages (none chosen: the contact's own)": (
        "Ilmoitusten kielet (jos mitään ei valita: yhteyshenkilön oma)",
        "Aviseringsspråk (inget valt: kontaktens eget)"),
    "Alerts to": ("Ilmoitukset", "Aviseringar till"),
    "All": ("Kaikki", "Alla"),
    "All marks": ("Kaikki tavaramerkit", "Alla varumärken"),
    "Amount": ("Summa", "Belopp"),
    "Amount (net EUR)": ("Summa (veroton, EUR)", "Belopp (netto, EUR)"),
    "An action goes with the state act_on.": (
        "Toimenpide annetaan vain tilan act_on kanssa.",
        "En åtgärd anges bara med tillståndet act_on."),
    "An invoice is overdue; new orders are paused until it is paid.": (
        "Lasku on erääntynyt; uudet tilaukset ovat tauolla, kunnes se on maksettu.",
        "En faktura är förfallen; nya beställningar pausas tills den är betald."),
    "Billing period": ("Laskutusjakso", "Faktureringsperiod"),
    "Cancel at the end of the period": ("Peruuta jakson päättyessä",
                                        "Säg upp vid periodens slut"),
    "Choose month or year.": ("Valitse kuukausi tai vuosi.", "Välj månad eller år."),
    "Choose one of: %(actions)s.": ("Valitse jokin seuraavista: %(actions)s.",
                                    "Välj en av: %(actions)s."),
    "Choose one of: %(states)s.": ("Valitse jokin seuraavista: %(states)s.",
                                   "Välj en av: %(states)s."),
    "Choose prepaid or postpaid.": ("Valitse ennakko- tai jälkimaksu.",
                                    "Välj förskotts- eller efterskottsbetalning."),
    "Claimed labels": ("Suojatut nimet", "Skyddade namn"),
    "Customer contact to alert": ("Asiakkaan yhteyshenkilö, jolle ilmoitetaan",
                                  "Kundens kontakt som aviseras"),
    "Effective from": ("Voimassa alkaen", "Gäller från"),
    "Found": ("Löydetty", "Hittad"),
    "Give a non-negative amount in whole cents.": (
        "Anna ei-negatiivinen summa tasasentteinä.",
        "Ange ett icke-negativt belopp i hela cent."),
    "Give an amount such as 9.00.": ("Anna summa, esimerkiksi 9.00.",
                                     "Ange ett belopp, till exempel 9.00."),
    "Give the date as YYYY-MM-DD.": ("Anna päivämäärä muodossa VVVV-KK-PP.",
                                     "Ange datumet som ÅÅÅÅ-MM-DD."),
    "Holder": ("Haltija", "Innehavare"),
    "Jurisdiction or office (optional, e.g. EUIPO, PRH)": (
        "Lainkäyttöalue tai virasto (valinnainen, esim. EUIPO, PRH)",
        "Jurisdiktion eller myndighet (valfritt, t.ex. EUIPO, PRH)"),
    "Keep protecting it": ("Jatka suojausta", "Fortsätt skyddet"),
    "Mark": ("Tavaramerkki", "Varumärke"),
    "Match %(id)s not found.": ("Osumaa %(id)s ei löydy.", "Träffen %(id)s hittades inte."),
    "Match updated.": ("Osuma päivitetty.", "Träffen har uppdaterats."),
    "Matches": ("Osumat", "Träffar"),
    "Name": ("Nimi", "Namn"),
    "Net EUR per protected mark and period. A change applies to periods starting on or after its date; earlier prices stay in the history.": (
        "Veroton hinta euroina tavaramerkkiä ja jaksoa kohden. Muutos koskee jaksoja, jotka "
        "alkavat sen päivänä tai myöhemmin; aiemmat hinnat säilyvät historiassa.",
        "Nettopris i euro per skyddat varumärke och period. En ändring gäller perioder som "
        "börjar på eller efter dess datum; tidigare priser finns kvar i historiken."),
    "New matches": ("Uudet osumat", "Nya träffar"),
    "No %(list)s price for trademark protection per %(period)s.": (
        "Tavaramerkkisuojalle ei ole hintaa (%(list)s, %(period)s).",
        "Inget pris för varumärkesskydd (%(list)s, %(period)s)."),
    "No contact %(id)s in this account.": ("Tilillä ei ole yhteystietoa %(id)s.",
                                           "Kontot har ingen kontakt %(id)s."),
    "No matches yet.": ("Ei vielä osumia.", "Inga träffar ännu."),
    "No price is set for trademark protection": (
        "Tavaramerkkisuojalle ei ole asetettu hintaa",
        "Inget pris har satts för varumärkesskydd"),
    "No prices yet.": ("Ei vielä hintoja.", "Inga priser ännu."),
    "No protected marks yet.": ("Ei vielä suojattuja tavaramerkkejä.",
                                "Inga skyddade varumärken ännu."),
    "No such match for this trademark": ("Tavaramerkillä ei ole tällaista osumaa",
                                         "Varumärket har ingen sådan träff"),
    "No such trademark in this account": ("Tilillä ei ole tällaista tavaramerkkiä",
                                          "Kontot har inget sådant varumärke"),
    "None: alert me": ("Ei ketään: ilmoita minulle", "Ingen: avisera mig"),
    "Note": ("Muistiinpano", "Anteckning"),
    "Older matches": ("Vanhemmat osumat", "Äldre träffar"),
    "Other labels for the claims notice (optional, separated by spaces)": (
        "Muut ilmoituksen kattamat nimet (valinnainen, välilyönnein eroteltuina)",
        "Andra namn som meddelandet omfattar (valfritt, åtskilda med mellanslag)"),
    "Paid until": ("Maksettu asti", "Betald till"),
    "Price list": ("Hinnasto", "Prislista"),
    "Price saved; it applies from %(date)s.": ("Hinta tallennettu; se on voimassa %(date)s alkaen.",
                                               "Priset har sparats; det gäller från %(date)s."),
    "Protect a mark": ("Suojaa tavaramerkki", "Skydda ett varumärke"),
    "Protect the mark": ("Suojaa tavaramerkki", "Skydda varumärket"),
    "Protected marks": ("Suojatut tavaramerkit", "Skyddade varumärken"),
    "Reason": ("Syy", "Orsak"),
    "Registration number": ("Rekisterinumero", "Registreringsnummer"),
    "Registration number (optional)": ("Rekisterinumero (valinnainen)",
                                       "Registreringsnummer (valfritt)"),
    "Save": ("Tallenna", "Spara"),
    "Save the price": ("Tallenna hinta", "Spara priset"),
    "Score": ("Pisteet", "Poäng"),
    "Set a price": ("Aseta hinta", "Ange ett pris"),
    "State": ("Tila", "Tillstånd"),
    "Status": ("Tila", "Status"),
    "The mark has no letters or digits a domain name could carry.": (
        "Tavaramerkissä ei ole kirjaimia tai numeroita, jotka voisivat olla verkkotunnuksessa.",
        "Varumärket har inga bokstäver eller siffror som ett domännamn kan innehålla."),
    "The name matches a protected mark: acknowledge the claims notice": (
        "Nimi vastaa suojattua tavaramerkkiä: kuittaa tavaramerkki-ilmoitus",
        "Namnet motsvarar ett skyddat varumärke: bekräfta varumärkesmeddelandet"),
    "The protection continues.": ("Suojaus jatkuu.", "Skyddet fortsätter."),
    "The protection ends at the end of the paid period.": (
        "Suojaus päättyy maksetun jakson lopussa.",
        "Skyddet upphör vid slutet av den betalda perioden."),
    "The protection of %(mark)s has ended.": ("Tavaramerkin %(mark)s suojaus on päättynyt.",
                                              "Skyddet av %(mark)s har upphört."),
    "The protection of this mark has ended": ("Tämän tavaramerkin suojaus on päättynyt",
                                              "Skyddet av detta varumärke har upphört"),
    "Trademark %(id)s not found.": ("Tavaramerkkiä %(id)s ei löydy.",
                                    "Varumärket %(id)s hittades inte."),
    "Trademark prices": ("Tavaramerkkisuojan hinnat", "Priser för varumärkesskydd"),
    "Trademark protection": ("Tavaramerkkisuoja", "Varumärkesskydd"),
    "Trademark protection has no price yet.": ("Tavaramerkkisuojalla ei ole vielä hintaa.",
                                               "Varumärkesskyddet har inget pris ännu."),
    "Trademarks": ("Tavaramerkit", "Varumärken"),
    "We watch new domain name registrations, here and in the zone files of the large TLDs, for names that imitate your customers' marks: the mark in another TLD, typos, look-alike characters and the mark with a common word. Anyone registering one of the mark's own labels here must first acknowledge a notice naming the mark.": (
        "Seuraamme uusia verkkotunnusrekisteröintejä, täällä ja suurten päätteiden "
        "vyöhyketiedostoissa, ja etsimme nimiä, jotka jäljittelevät asiakkaidesi "
        "tavaramerkkejä: tavaramerkki toisessa päätteessä, kirjoitusvirheet, samannäköiset "
        "merkit ja tavaramerkki yleisen sanan kanssa. Joka rekisteröi täällä tavaramerkin "
        "oman nimen, kuittaa ensin ilmoituksen, jossa tavaramerkki mainitaan.",
        "Vi bevakar nya domänregistreringar, här och i de stora toppdomänernas zonfiler, "
        "efter namn som imiterar dina kunders varumärken: varumärket under en annan "
        "toppdomän, stavfel, tecken som liknar varandra och varumärket med ett vanligt ord. "
        "Den som här registrerar ett av varumärkets egna namn måste först bekräfta ett "
        "meddelande som nämner varumärket."),
    "You have received this notice because the domain name you are registering matches at least one protected mark. Registering it may infringe the holder's rights. If you continue, the holder is told that the name was registered.": (
        "Saat tämän ilmoituksen, koska rekisteröitävä verkkotunnus vastaa vähintään yhtä "
        "suojattua tavaramerkkiä. Sen rekisteröinti voi loukata haltijan oikeuksia. Jos "
        "jatkat, haltijalle kerrotaan, että nimi rekisteröitiin.",
        "Du får detta meddelande eftersom domännamnet du registrerar motsvarar minst ett "
        "skyddat varumärke. Att registrera det kan göra intrång i innehavarens rättigheter. "
        "Om du fortsätter får innehavaren veta att namnet registrerades."),
    "Your role cannot change trademark protection.": (
        "Roolisi ei voi muuttaa tavaramerkkisuojaa.",
        "Din roll kan inte ändra varumärkesskyddet."),
    "active": ("voimassa", "aktivt"),
    "active, renews on %(date)s": ("voimassa, uusitaan %(date)s", "aktivt, förnyas %(date)s"),
    "ended": ("päättynyt", "upphört"),
    "ended on %(date)s": ("päättyi %(date)s", "upphörde %(date)s"),
    "ends at period end": ("päättyy jakson lopussa", "upphör vid periodens slut"),
    "ends on %(date)s": ("päättyy %(date)s", "upphör %(date)s"),
    "missing": ("puuttuu", "saknas"),
    "monthly": ("kuukausittain", "månadsvis"),
    "payment due": ("maksu erääntynyt", "betalning förfallen"),
    "payment due: top up your wallet": ("maksu erääntynyt: lisää varoja tilillesi",
                                        "betalning förfallen: fyll på ditt saldo"),
    "registered after a claims notice": ("rekisteröity tavaramerkki-ilmoituksen jälkeen",
                                         "registrerat efter ett varumärkesmeddelande"),
    "scheduled": ("ajastettu", "schemalagt"),
    "yearly": ("vuosittain", "årligen"),
    "you (no customer contact)": ("sinulle (ei asiakkaan yhteyshenkilöä)",
                                  "dig (ingen kundkontakt)"),
}

ELSEWHERE = {
    "domains": {
        "%(name)s matches a protected mark:": (
            "%(name)s vastaa suojattua tavaramerkkiä:",
            "%(name)s motsvarar ett skyddat varumärke:"),
        "Holder": ("Haltija", "Innehavare"),
        "Mark": ("Tavaramerkki", "Varumärke"),
        "Notice %(id)s": ("Ilmoitus %(id)s", "Meddelande %(id)s"),
        "Registering the name may infringe the holder's rights. If you continue, the holder is told that the name was registered.": (
            "Nimen rekisteröinti voi loukata haltijan oikeuksia. Jos jatkat, haltijalle "
            "kerrotaan, että nimi rekisteröitiin.",
            "Att registrera namnet kan göra intrång i innehavarens rättigheter. Om du "
            "fortsätter får innehavaren veta att namnet registrerades."),
        "The registrant has read this notice and wants to register the name.": (
            "Rekisteröijä on lukenut tämän ilmoituksen ja haluaa rekisteröidä nimen.",
            "Registranten har läst detta meddelande och vill registrera namnet."),
        "Trademark notice": ("Tavaramerkki-ilmoitus", "Varumärkesmeddelande"),
    },
    "api": {
        "Trademark claims notice: %(name)s matches the protected mark %(marks)s. Show the notice to the customer; if they still want the name, set the domain's field \"%(field)s\" to %(id)s and register again.": (
            "Tavaramerkki-ilmoitus: %(name)s vastaa suojattua tavaramerkkiä %(marks)s. Näytä "
            "ilmoitus asiakkaalle; jos hän haluaa nimen silti, aseta verkkotunnuksen kenttään "
            "\"%(field)s\" arvo %(id)s ja rekisteröi uudelleen.",
            "Varumärkesmeddelande: %(name)s motsvarar det skyddade varumärket %(marks)s. Visa "
            "meddelandet för kunden; om kunden ändå vill ha namnet, sätt domänens fält "
            "\"%(field)s\" till %(id)s och registrera igen."),
    },
    "whitelabel": {
        "New domain names resemble your mark %(mark)s": (
            "Uudet verkkotunnukset muistuttavat tavaramerkkiäsi %(mark)s",
            "Nya domännamn liknar ditt varumärke %(mark)s"),
        "We watch new domain name registrations for names that imitate your mark %(mark)s. These were registered recently: %(names)s": (
            "Seuraamme uusia verkkotunnusrekisteröintejä tavaramerkkiäsi %(mark)s "
            "jäljittelevien nimien varalta. Nämä rekisteröitiin äskettäin: %(names)s",
            "Vi bevakar nya domänregistreringar efter namn som imiterar ditt varumärke "
            "%(mark)s. Dessa registrerades nyligen: %(names)s"),
        "Contact %(brand)s if you want to act on any of them.": (
            "Ota yhteyttä: %(brand)s, jos haluat ryhtyä toimiin jonkin niistä suhteen.",
            "Kontakta %(brand)s om du vill vidta åtgärder mot något av dem."),
        "%(domain)s was registered despite a notice about your mark %(mark)s": (
            "%(domain)s rekisteröitiin tavaramerkkiäsi %(mark)s koskevasta ilmoituksesta "
            "huolimatta",
            "%(domain)s registrerades trots ett meddelande om ditt varumärke %(mark)s"),
        "%(domain)s has been registered. Before registering it, the registrant was shown a notice that the name matches your protected mark %(mark)s and acknowledged it.": (
            "%(domain)s on rekisteröity. Ennen rekisteröintiä rekisteröijälle näytettiin "
            "ilmoitus, että nimi vastaa suojattua tavaramerkkiäsi %(mark)s, ja hän kuittasi "
            "sen.",
            "%(domain)s har registrerats. Före registreringen visades registranten ett "
            "meddelande om att namnet motsvarar ditt skyddade varumärke %(mark)s, och "
            "registranten bekräftade det."),
        "Contact %(brand)s if you want to act on it.": (
            "Ota yhteyttä: %(brand)s, jos haluat ryhtyä toimiin.",
            "Kontakta %(brand)s om du vill vidta åtgärder."),
        "New domain names resemble the mark %(mark)s": (
            "Uudet verkkotunnukset muistuttavat tavaramerkkiä %(mark)s",
            "Nya domännamn liknar varumärket %(mark)s"),
        "The watch for %(mark)s (%(holder)s) found these new domain names: %(names)s": (
            "Tavaramerkin %(mark)s (%(holder)s) seuranta löysi nämä uudet verkkotunnukset: "
            "%(names)s",
            "Bevakningen av %(mark)s (%(holder)s) hittade dessa nya domännamn: %(names)s"),
        "The mark has no customer contact to alert; decide on each match in the client area.": (
            "Tavaramerkillä ei ole asiakkaan yhteyshenkilöä, jolle ilmoittaa; päätä kustakin "
            "osumasta asiakasalueella.",
            "Varumärket har ingen kundkontakt att avisera; ta ställning till varje träff i "
            "kundområdet."),
    },
}


def _quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def append_elsewhere() -> None:
    """Append the messages missing from the other areas' catalogues (and .pot) as plain
    entries at the end: the files are not rewritten, so other changes merge cleanly."""
    root = Path(__file__).resolve().parents[1]
    for area, table in ELSEWHERE.items():
        targets = [(root / area / "messages.pot", None)] + [
            (root / area / lang / "LC_MESSAGES" / "messages.po", index)
            for index, lang in ((0, "fi"), (1, "sv"), (None, "en"))]
        for path, index in targets:
            text = path.read_text()
            missing = [msgid for msgid in table if f"msgid {_quote(msgid)}\n" not in text]
            entries = "".join(f"\nmsgid {_quote(msgid)}\nmsgstr "
                              f"{_quote(table[msgid][index] if index is not None else '')}\n"
                              for msgid in missing)
            path.write_text(text.rstrip("\n") + "\n" + entries if entries else text)


if __name__ == "__main__" and sys.argv[1:] == ["elsewhere"]:
    append_elsewhere()
