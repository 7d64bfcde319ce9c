"""Finnish and Swedish for the white-label catalogue; ``python i18n/whitelabel/translations.py``
writes them into the .po files (after ``i18n/tool.py extract whitelabel``)."""

T = {
    "%(brand)s has been asked to take care of the domain %(domain)s.": (
        "%(brand)s on saanut pyynnön ottaa hoitaakseen verkkotunnuksen %(domain)s.",
        "%(brand)s har ombetts att ta hand om domänen %(domain)s."),
    "%(domain)s expired on %(expires)s and no longer works.": (
        "Verkkotunnuksen %(domain)s voimassaolo päättyi %(expires)s, eikä se enää toimi.",
        "Domänen %(domain)s löpte ut %(expires)s och fungerar inte längre."),
    "%(domain)s expired on %(expires)s. It can still be renewed for a short time; after that it may be lost.": (
        "Verkkotunnuksen %(domain)s voimassaolo päättyi %(expires)s. Sen voi vielä uusia "
        "lyhyen aikaa; sen jälkeen se voidaan menettää.",
        "Domänen %(domain)s löpte ut %(expires)s. Den kan ännu förnyas under en kort tid; "
        "därefter kan den gå förlorad."),
    "%(domain)s expires on %(expires)s": (
        "Verkkotunnus %(domain)s vanhenee %(expires)s",
        "Domänen %(domain)s löper ut %(expires)s"),
    "%(domain)s expires on %(expires)s. Renew it in good time so that your website and email keep working.": (
        "Verkkotunnus %(domain)s vanhenee %(expires)s. Uusi se ajoissa, jotta verkkosivusi "
        "ja sähköpostisi toimivat edelleen.",
        "Domänen %(domain)s löper ut %(expires)s. Förnya den i god tid så att din webbplats "
        "och e-post fortsätter att fungera."),
    "%(domain)s has been deleted": (
        "Verkkotunnus %(domain)s on poistettu",
        "Domänen %(domain)s har raderats"),
    "%(domain)s has been deleted and is no longer registered in your name.": (
        "Verkkotunnus %(domain)s on poistettu, eikä se ole enää rekisteröity nimiisi.",
        "Domänen %(domain)s har raderats och är inte längre registrerad i ditt namn."),
    "%(domain)s has expired": (
        "Verkkotunnus %(domain)s on vanhentunut",
        "Domänen %(domain)s har löpt ut"),
    "%(domain)s has expired: renew it now": (
        "Verkkotunnus %(domain)s on vanhentunut: uusi se nyt",
        "Domänen %(domain)s har löpt ut: förnya den nu"),
    "%(domain)s is being transferred away": (
        "Verkkotunnusta %(domain)s ollaan siirtämässä pois",
        "Domänen %(domain)s håller på att flyttas bort"),
    "%(domain)s is now registered in your name. It is valid until %(expires)s.": (
        "Verkkotunnus %(domain)s on nyt rekisteröity nimiisi. Se on voimassa %(expires)s asti.",
        "Domänen %(domain)s är nu registrerad i ditt namn. Den gäller till %(expires)s."),
    "A domain you control, e.g. domain.yourcompany.fi": (
        "Hallinnassasi oleva verkkotunnus, esim. domain.yrityksesi.fi",
        "En domän som du förvaltar, t.ex. domain.dittforetag.fi"),
    "A transfer of %(domain)s to another provider has been requested.": (
        "Verkkotunnuksen %(domain)s siirtoa toiselle palveluntarjoajalle on pyydetty.",
        "En flytt av domänen %(domain)s till en annan leverantör har begärts."),
    "A transfer of %(domain)s to another provider has been requested. It completes on %(date)s unless you stop it.": (
        "Verkkotunnuksen %(domain)s siirtoa toiselle palveluntarjoajalle on pyydetty. Siirto "
        "toteutuu %(date)s, ellet estä sitä.",
        "En flytt av domänen %(domain)s till en annan leverantör har begärts. Flytten "
        "genomförs %(date)s om du inte stoppar den."),
    "All required records are in place: mail now uses your domain.": (
        "Kaikki vaaditut tietueet ovat kunnossa: sähköposti lähtee nyt verkkotunnuksestasi.",
        "Alla nödvändiga poster är på plats: e-posten skickas nu från din domän."),
    "Another account already uses this domain": (
        "Toinen tili käyttää jo tätä verkkotunnusta",
        "Ett annat konto använder redan den här domänen"),
    "Approve or reject the transfer": (
        "Hyväksy tai hylkää siirto",
        "Godkänn eller avvisa flytten"),
    "Approve or reject the transfer from the link below. If you did not ask for this, reject it.": (
        "Hyväksy tai hylkää siirto alla olevasta linkistä. Jos et pyytänyt siirtoa, hylkää se.",
        "Godkänn eller avvisa flytten via länken nedan. Om du inte har begärt den, avvisa den."),
    "Approve the transfer": ("Hyväksy siirto", "Godkänn flytten"),
    "Approve the transfer of %(domain)s": (
        "Hyväksy verkkotunnuksen %(domain)s siirto",
        "Godkänn flytten av domänen %(domain)s"),
    "Attempts": ("Yrityksiä", "Försök"),
    "Background colour": ("Taustaväri", "Bakgrundsfärg"),
    "Brand": ("Brändi", "Varumärke"),
    "Brand and email": ("Brändi ja sähköposti", "Varumärke och e-post"),
    "Brand name": ("Brändin nimi", "Varumärkets namn"),
    "Brand saved.": ("Brändi tallennettu.", "Varumärket har sparats."),
    "Check": ("Tarkistus", "Kontroll"),
    "Check that you copied the whole address from the message.": (
        "Tarkista, että kopioit viestistä koko osoitteen.",
        "Kontrollera att du kopierade hela adressen från meddelandet."),
    "Check the DNS records": ("Tarkista DNS-tietueet", "Kontrollera DNS-posterna"),
    "Check the records now": ("Tarkista tietueet nyt", "Kontrollera posterna nu"),
    "Confirm it by %(deadline)s. The rules for domain names require a confirmed address: if it is not confirmed in time, the domain is suspended until it is.": (
        "Vahvista se viimeistään %(deadline)s. Verkkotunnusten säännöt edellyttävät "
        "vahvistettua osoitetta: jos sitä ei vahvisteta ajoissa, verkkotunnus jäädytetään, "
        "kunnes se vahvistetaan.",
        "Bekräfta den senast %(deadline)s. Reglerna för domännamn kräver en bekräftad "
        "adress: om den inte bekräftas i tid stängs domänen av tills den bekräftas."),
    "Confirm my email address": ("Vahvista sähköpostiosoitteeni", "Bekräfta min e-postadress"),
    "Confirm that %(email)s is the right email address for the owner of %(domains)s.": (
        "Vahvista, että %(email)s on oikea sähköpostiosoite verkkotunnuksen %(domains)s "
        "omistajalle.",
        "Bekräfta att %(email)s är rätt e-postadress för innehavaren av %(domains)s."),
    "Confirm your email address": ("Vahvista sähköpostiosoitteesi", "Bekräfta din e-postadress"),
    "Contact %(brand)s to restore it while that is still possible.": (
        "Ota yhteyttä: %(brand)s, niin voit palauttaa sen, kun se on vielä mahdollista.",
        "Kontakta %(brand)s för att återställa den medan det ännu är möjligt."),
    "Customer service": ("Asiakaspalvelu", "Kundtjänst"),
    "DKIM: the public key that signs your mail": (
        "DKIM: julkinen avain, jolla postisi allekirjoitetaan",
        "DKIM: den publika nyckel som signerar din e-post"),
    "DMARC (advice): tells receivers how to treat unsigned mail": (
        "DMARC (suositus): kertoo vastaanottajille, miten allekirjoittamaton posti käsitellään",
        "DMARC (rekommendation): talar om för mottagare hur osignerad e-post ska hanteras"),
    "DNS records to publish": ("Julkaistavat DNS-tietueet", "DNS-poster att publicera"),
    "Default language for your customers": (
        "Asiakkaidesi oletuskieli", "Standardspråk för dina kunder"),
    "Domain: %(domain)s": ("Verkkotunnus: %(domain)s", "Domän: %(domain)s"),
    "Email preview": ("Sähköpostin esikatselu", "Förhandsvisning av e-post"),
    "Expires on: %(date)s": ("Vanhenee: %(date)s", "Löper ut: %(date)s"),
    "For questions about your domain names, contact %(brand)s.": (
        "Verkkotunnuksiasi koskevissa kysymyksissä ota yhteyttä: %(brand)s.",
        "Vid frågor om dina domännamn, kontakta %(brand)s."),
    "Give a domain name you control, e.g. domain.yourcompany.fi.": (
        "Anna hallinnassasi oleva verkkotunnus, esim. domain.yrityksesi.fi.",
        "Ange en domän som du förvaltar, t.ex. domain.dittforetag.fi."),
    "Give it only to the provider you are moving the domain to.": (
        "Anna se vain palveluntarjoajalle, jolle olet siirtämässä verkkotunnusta.",
        "Ge den endast till den leverantör som du flyttar domänen till."),
    "If the button does not work, copy this address into your browser:": (
        "Jos painike ei toimi, kopioi tämä osoite selaimeesi:",
        "Om knappen inte fungerar, kopiera den här adressen till din webbläsare:"),
    "If this is a mistake, contact %(brand)s at once.": (
        "Jos tämä on virhe, ota heti yhteyttä: %(brand)s.",
        "Om detta är ett misstag, kontakta %(brand)s genast."),
    "If you did not ask for this, stop the transfer from the link below.": (
        "Jos et pyytänyt tätä, estä siirto alla olevasta linkistä.",
        "Om du inte har begärt detta, stoppa flytten via länken nedan."),
    "If you did not make this change, contact %(brand)s at once.": (
        "Jos et tehnyt tätä muutosta, ota heti yhteyttä: %(brand)s.",
        "Om du inte gjorde den här ändringen, kontakta %(brand)s genast."),
    "Last error": ("Viimeisin virhe", "Senaste fel"),
    "Link host: points your link domain at our servers": (
        "Linkkiosoite: ohjaa linkkiverkkotunnuksesi palvelimillemme",
        "Länkvärd: pekar din länkdomän till våra servrar"),
    "Links in our messages work for a limited time. Contact us if you still need to act.": (
        "Viestiemme linkit toimivat rajoitetun ajan. Ota meihin yhteyttä, jos asia on vielä "
        "hoitamatta.",
        "Länkarna i våra meddelanden fungerar en begränsad tid. Kontakta oss om du "
        "fortfarande behöver göra något."),
    "Links in the mail point to: %(host)s": (
        "Viestien linkit osoittavat osoitteeseen: %(host)s",
        "Länkarna i e-posten pekar till: %(host)s"),
    "Logo address (https)": ("Logon osoite (https)", "Logotypens adress (https)"),
    "Mail to your customers is sent from: %(address)s": (
        "Asiakkaillesi lähtevän postin lähettäjä: %(address)s",
        "E-post till dina kunder skickas från: %(address)s"),
    "Main colour": ("Pääväri", "Huvudfärg"),
    "Messages that could not be sent: given up after every retry, or still retrying after an error.": (
        "Viestit, joita ei saatu lähetettyä: luovuttu kaikkien uusintayritysten jälkeen tai "
        "yhä uudelleen yritettävinä virheen jälkeen.",
        "Meddelanden som inte kunde skickas: uppgivna efter alla försök, eller som fortfarande "
        "försöks igen efter ett fel."),
    "Name": ("Nimi", "Namn"),
    "No such message.": ("Viestiä ei löydy.", "Meddelandet finns inte."),
    "Nothing here: all mail is going out.": (
        "Ei mitään: kaikki posti lähtee normaalisti.",
        "Inget här: all e-post går iväg som den ska."),
    "Nothing was charged for it; any funds held for it are released.": (
        "Siitä ei veloitettu mitään; sitä varten varatut varat vapautetaan.",
        "Inget debiterades för den; medel som reserverats för den frigörs."),
    "Open the client area": ("Avaa asiakasalue", "Öppna kundområdet"),
    "Order failed: %(domain)s": ("Tilaus epäonnistui: %(domain)s", "Beställningen misslyckades: %(domain)s"),
    "Outbox problems": ("Lähtevän postin ongelmat", "Problem i utkorgen"),
    "Please confirm that %(email)s is the right email address for the owner of %(domains)s.": (
        "Vahvista, että %(email)s on oikea sähköpostiosoite verkkotunnuksen %(domains)s "
        "omistajalle.",
        "Bekräfta att %(email)s är rätt e-postadress för innehavaren av %(domains)s."),
    "Preview": ("Esikatselu", "Förhandsvisning"),
    "Purpose": ("Tarkoitus", "Syfte"),
    "Questions? Contact us:": ("Kysyttävää? Ota yhteyttä:", "Frågor? Kontakta oss:"),
    "Recipient": ("Vastaanottaja", "Mottagare"),
    "Renewal information": ("Tietoa uusimisesta", "Information om förnyelse"),
    "Retry": ("Yritä uudelleen", "Försök igen"),
    "SPF: allows our servers to send mail for your domain": (
        "SPF: sallii palvelimiemme lähettää postia verkkotunnuksesi nimissä",
        "SPF: tillåter våra servrar att skicka e-post för din domän"),
    "Save": ("Tallenna", "Spara"),
    "Save domain": ("Tallenna verkkotunnus", "Spara domänen"),
    "Sender and link domain": ("Lähettäjä- ja linkkiverkkotunnus", "Avsändar- och länkdomän"),
    "Sender domain saved. Publish the DNS records below, then check them.": (
        "Lähettäjäverkkotunnus tallennettu. Julkaise alla olevat DNS-tietueet ja tarkista ne.",
        "Avsändardomänen har sparats. Publicera DNS-posterna nedan och kontrollera dem sedan."),
    "Set a sender domain first": (
        "Aseta ensin lähettäjäverkkotunnus", "Ange först en avsändardomän"),
    "Some records are not right yet; see the table.": (
        "Osa tietueista ei ole vielä kunnossa; katso taulukko.",
        "Vissa poster är inte rätt ännu; se tabellen."),
    "State": ("Tila", "Läge"),
    "Status": ("Tila", "Status"),
    "Stop the transfer": ("Estä siirto", "Stoppa flytten"),
    "Subject": ("Aihe", "Ämne"),
    "Support email": ("Tuen sähköposti", "Supportens e-post"),
    "Support phone": ("Tuen puhelin", "Supportens telefon"),
    "Support web page (https)": ("Tuen verkkosivu (https)", "Supportens webbsida (https)"),
    "Thank you for choosing %(brand)s.": (
        "Kiitos, että valitsit palvelun %(brand)s.", "Tack för att du valde %(brand)s."),
    "Thank you! %(email)s is now confirmed.": (
        "Kiitos! %(email)s on nyt vahvistettu.", "Tack! %(email)s är nu bekräftad."),
    "Thank you. The transfer is stopped.": (
        "Kiitos. Siirto on estetty.", "Tack. Flytten är stoppad."),
    "Thank you. You approved the transfer.": (
        "Kiitos. Hyväksyit siirron.", "Tack. Du godkände flytten."),
    "The DNS lookup failed; try again later.": (
        "DNS-haku epäonnistui; yritä myöhemmin uudelleen.",
        "DNS-uppslaget misslyckades; försök igen senare."),
    "The DNS records of %(domain)s no longer check out (%(failing)s). Until they are fixed, email to your customers is sent from a neutral address.": (
        "Verkkotunnuksen %(domain)s DNS-tietueet eivät ole enää kunnossa (%(failing)s). "
        "Kunnes ne korjataan, asiakkaillesi lähtevä posti lähetetään neutraalista osoitteesta.",
        "DNS-posterna för %(domain)s stämmer inte längre (%(failing)s). Tills de är rättade "
        "skickas e-post till dina kunder från en neutral adress."),
    "The action was already taken with this link, so there is nothing more to do.": (
        "Tällä linkillä on jo toimittu, joten mitään ei tarvitse enää tehdä.",
        "Åtgärden har redan gjorts med den här länken, så det finns inget mer att göra."),
    "The contact details of %(domain)s were changed": (
        "Verkkotunnuksen %(domain)s yhteystietoja muutettiin",
        "Kontaktuppgifterna för %(domain)s har ändrats"),
    "The message is queued again.": (
        "Viesti on taas jonossa.", "Meddelandet står i kö igen."),
    "The owner contact details of %(domain)s were changed on %(date)s.": (
        "Verkkotunnuksen %(domain)s omistajan yhteystietoja muutettiin %(date)s.",
        "Innehavarens kontaktuppgifter för %(domain)s ändrades %(date)s."),
    "The record has a different value.": (
        "Tietueella on eri arvo.", "Posten har ett annat värde."),
    "The record was not found.": ("Tietuetta ei löytynyt.", "Posten hittades inte."),
    "The transfer code (auth code) for %(domain)s is: %(auth_code)s": (
        "Verkkotunnuksen %(domain)s siirtoavain (auth code) on: %(auth_code)s",
        "Flyttkoden (auth code) för %(domain)s är: %(auth_code)s"),
    "The transfer code for %(domain)s": (
        "Verkkotunnuksen %(domain)s siirtoavain", "Flyttkoden för %(domain)s"),
    "There is more than one such record; keep exactly one.": (
        "Tällaisia tietueita on useampi; jätä vain yksi.",
        "Det finns mer än en sådan post; behåll exakt en."),
    "This is a preview; nothing is saved yet.": (
        "Tämä on esikatselu; mitään ei ole vielä tallennettu.",
        "Detta är en förhandsvisning; inget har sparats ännu."),
    "This is an automatic notice about your reseller account.": (
        "Tämä on automaattinen ilmoitus jälleenmyyjätilistäsi.",
        "Detta är ett automatiskt meddelande om ditt återförsäljarkonto."),
    "This link cannot be used": ("Tätä linkkiä ei voi käyttää", "Den här länken kan inte användas"),
    "This link has already been used": (
        "Tätä linkkiä on jo käytetty", "Den här länken har redan använts"),
    "This link has expired": ("Tämä linkki on vanhentunut", "Den här länken har gått ut"),
    "This link is not valid": ("Tämä linkki ei ole kelvollinen", "Den här länken är inte giltig"),
    "To renew the domain, contact %(brand)s. Renew in good time so that your website and email keep working.": (
        "Uusiaksesi verkkotunnuksen ota yhteyttä: %(brand)s. Uusi se ajoissa, jotta "
        "verkkosivusi ja sähköpostisi toimivat edelleen.",
        "Kontakta %(brand)s för att förnya domänen. Förnya i god tid så att din webbplats "
        "och e-post fortsätter att fungera."),
    "Top up so that registrations and renewals are not delayed.": (
        "Lisää varoja, jotta rekisteröinnit ja uusimiset eivät viivästy.",
        "Fyll på så att registreringar och förnyelser inte fördröjs."),
    "Top-up received: %(amount)s": ("Talletus vastaanotettu: %(amount)s", "Insättning mottagen: %(amount)s"),
    "Type": ("Tyyppi", "Typ"),
    "Use a colour like #1f5f8b.": ("Anna väri muodossa #1f5f8b.", "Ange en färg som #1f5f8b."),
    "Use digits, spaces and + only.": (
        "Käytä vain numeroita, välilyöntejä ja +-merkkiä.",
        "Använd endast siffror, mellanslag och +."),
    "Value": ("Arvo", "Värde"),
    "We have received your top-up of %(amount)s. It is now available for registrations and renewals.": (
        "Olemme vastaanottaneet %(amount)s talletuksesi. Varat ovat nyt käytettävissä "
        "rekisteröinteihin ja uusimisiin.",
        "Vi har tagit emot din insättning på %(amount)s. Den kan nu användas för "
        "registreringar och förnyelser."),
    "You receive this message because you are the owner or contact of a domain name.": (
        "Saat tämän viestin, koska olet verkkotunnuksen omistaja tai yhteyshenkilö.",
        "Du får det här meddelandet eftersom du är innehavare av eller kontakt för ett domännamn."),
    "Your balance is low: %(balance)s": (
        "Saldosi on alhainen: %(balance)s", "Ditt saldo är lågt: %(balance)s"),
    "Your customers see this brand in every email and on the pages they open from it. They never see ours.": (
        "Asiakkaasi näkevät tämän brändin jokaisessa sähköpostissa ja sivuilla, jotka he "
        "avaavat niistä. Meidän brändiämme he eivät näe koskaan.",
        "Dina kunder ser det här varumärket i varje e-postmeddelande och på sidorna de öppnar "
        "från dem. Vårt ser de aldrig."),
    "Your domain %(domain)s is registered": (
        "Verkkotunnuksesi %(domain)s on rekisteröity",
        "Din domän %(domain)s är registrerad"),
    "Your order %(order)s for %(domain)s failed: %(reason)s": (
        "Tilauksesi %(order)s (%(domain)s) epäonnistui: %(reason)s",
        "Din beställning %(order)s för %(domain)s misslyckades: %(reason)s"),
    "Your prepaid balance is %(balance)s, below your warning limit of %(threshold)s.": (
        "Ennakkomaksusaldosi on %(balance)s, alle varoitusrajasi %(threshold)s.",
        "Ditt förbetalda saldo är %(balance)s, under din varningsgräns på %(threshold)s."),
    "Your role cannot change the brand.": (
        "Roolisi ei voi muuttaa brändiä.", "Din roll kan inte ändra varumärket."),
    "Your sender domain %(domain)s is paused": (
        "Lähettäjäverkkotunnuksesi %(domain)s on keskeytetty",
        "Din avsändardomän %(domain)s är pausad"),
    "given up": ("luovuttu", "uppgiven"),
    "last checked": ("viimeksi tarkistettu", "senast kontrollerad"),
    "ok": ("kunnossa", "ok"),
    "paused: a record broke, mail uses the neutral address": (
        "keskeytetty: tietue rikkoutui, posti lähtee neutraalista osoitteesta",
        "pausad: en post slutade fungera, e-posten använder den neutrala adressen"),
    "reseller": ("jälleenmyyjä", "återförsäljare"),
    "retrying": ("yritetään uudelleen", "försöker igen"),
    "verified": ("vahvistettu", "verifierad"),
    "waiting for DNS records": ("odottaa DNS-tietueita", "väntar på DNS-poster"),
}


def fill() -> None:
    from pathlib import Path

    from babel.messages.pofile import read_po, write_po

    root = Path(__file__).resolve().parent
    for index, language in enumerate(("fi", "sv", "en")):
        path = root / language / "LC_MESSAGES" / "messages.po"
        with path.open("rb") as handle:
            catalog = read_po(handle, locale=language)
        for message in catalog:
            if message.id and message.id in T and language != "en":
                message.string = T[message.id][index]
                message.flags.discard("fuzzy")
        catalog.fuzzy = False  # a fuzzy header makes ``compile`` skip the catalogue
        catalog.project = "Tunnus"
        with path.open("wb") as handle:
            write_po(handle, catalog, sort_output=True, width=100)


if __name__ == "__main__":
    fill()
