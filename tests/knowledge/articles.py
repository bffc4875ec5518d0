"""A Swedish article set for the search tests: short articles on a municipality's topics.

(key, title, body, category, department, audience)
"""

ARTICLES = [
    ("bygglov", "Bygglov", "Du behöver **bygglov** för att bygga nytt, bygga till eller ändra "
     "användningen av en byggnad. Ansök via e-tjänsten.", "bygglov", "stadsbyggnad", "public"),
    ("attefall", "Attefallshus och friggebodar", "Ett attefallshus på högst 30 kvadratmeter "
     "kräver en anmälan men inget lov.", "bygglov", "stadsbyggnad", "public"),
    ("altan", "Altan och uteplats", "En altan nära tomtgränsen kan kräva lov. Fråga "
     "stadsbyggnadskontoret.", "bygglov", "stadsbyggnad", "public"),
    ("rivning", "Rivningslov", "För att riva en byggnad inom detaljplan behövs rivningslov.",
     "bygglov", "stadsbyggnad", "public"),
    ("detaljplan", "Detaljplaner", "Detaljplanen bestämmer hur mark och vatten får användas "
     "i ett område.", "bygglov", "stadsbyggnad", "public"),
    ("strandskydd", "Strandskydd", "Nära sjöar och vattendrag gäller strandskydd; dispens "
     "söks hos kommunen.", "bygglov", "stadsbyggnad", "public"),
    ("forskoleplats", "Förskoleplats", "Ansök om förskoleplats senast fyra månader innan "
     "barnet ska börja. Placering erbjuds inom fyra månader.", "forskola-skola", "utbildning",
     "public"),
    ("forskoleavgift", "Avgift för förskola", "Avgiften för förskola beräknas på hushållets "
     "inkomst enligt maxtaxan.", "forskola-skola", "utbildning", "public"),
    ("skolval", "Skolval till förskoleklass", "Alla barn som fyller sex år väljer skola "
     "under januari.", "forskola-skola", "utbildning", "public"),
    ("fritidshem", "Fritidshem", "Fritidshemmet tar emot elever före och efter skoldagen.",
     "forskola-skola", "utbildning", "public"),
    ("skolskjuts", "Skolskjuts", "Elever med lång väg till skolan kan ha rätt till "
     "skolskjuts.", "forskola-skola", "utbildning", "public"),
    ("modersmal", "Modersmålsundervisning", "Elever med ett annat modersmål än svenska kan "
     "få undervisning i sitt modersmål.", "forskola-skola", "utbildning", "public"),
    ("sophamtning", "Sophämtning och avfall", "Hushållens avfall hämtas varannan vecka. "
     "Matavfall sorteras i den bruna påsen.", "avfall", "tekniska", "public"),
    ("atervinning", "Återvinningscentraler", "Grovavfall och farligt avfall lämnas på "
     "återvinningscentralen.", "avfall", "tekniska", "public"),
    ("kompost", "Kompostera hemma", "Anmäl hemkompost av matavfall till miljöförvaltningen.",
     "avfall", "miljo", "public"),
    ("slamtomning", "Slamtömning", "Enskilda avlopp töms på slam en gång per år.", "avfall",
     "tekniska", "public"),
    ("sopkarl", "Byta storlek på sopkärl", "Du kan byta till ett mindre kärl för restavfall.",
     "avfall", "tekniska", "public"),
    ("gatubelysning", "Felanmälan av gatubelysning", "Trasiga gatlampor anmäls i "
     "felanmälan med platsens adress.", "felanmalan", "tekniska", "public"),
    ("potthal", "Potthål i gatan", "Anmäl potthål och skador i vägbanan så lagas de.",
     "felanmalan", "tekniska", "public"),
    ("klotter", "Klotter och skadegörelse", "Klotter på kommunens fastigheter saneras inom "
     "två dygn.", "felanmalan", "tekniska", "public"),
    ("snorojning", "Snöröjning och halkbekämpning", "Kommunen röjer snö på gator och "
     "cykelvägar; fastighetsägare ansvarar för trottoaren.", "gator-trafik", "tekniska",
     "public"),
    ("parkeringstillstand", "Parkeringstillstånd för rörelsehindrade", "Den som har svårt "
     "att gå kan söka parkeringstillstånd.", "gator-trafik", "tekniska", "public"),
    ("boendeparkering", "Boendeparkering", "Boende i innerstaden kan köpa boendeparkering "
     "per månad.", "gator-trafik", "tekniska", "public"),
    ("felparkering", "Felparkerade bilar", "Felparkerade fordon anmäls till "
     "parkeringsövervakningen.", "gator-trafik", "tekniska", "public"),
    ("vagarbeten", "Vägarbeten och avstängningar", "Pågående vägarbeten visas på kartan.",
     "gator-trafik", "tekniska", "public"),
    ("cykel", "Cykelparkering vid stationen", "Övergivna cyklar vid stationen forslas "
     "bort efter märkning.", "gator-trafik", "tekniska", "public"),
    ("bistand", "Ekonomiskt bistånd", "Försörjningsstöd söks hos socialförvaltningen när "
     "andra inkomster inte räcker.", "ekonomiskt-bistand", "socialforvaltningen", "public"),
    ("skuldradgivning", "Budget- och skuldrådgivning", "Kommunens rådgivare hjälper dig med "
     "budget och skulder.", "ekonomiskt-bistand", "socialforvaltningen", "public"),
    ("hemtjanst", "Hemtjänst", "Äldre som behöver hjälp i hemmet kan ansöka om hemtjänst.",
     "ovrigt", "socialforvaltningen", "public"),
    ("fardtjanst", "Färdtjänst", "Den som inte kan åka kollektivt kan söka färdtjänst.",
     "ovrigt", "socialforvaltningen", "public"),
    ("aldreboende", "Särskilt boende för äldre", "Ansökan om plats på äldreboende "
     "biståndsbedöms.", "ovrigt", "socialforvaltningen", "public"),
    ("oro-barn", "Orosanmälan om barn", "Den som är orolig för ett barn kan göra en "
     "orosanmälan till socialtjänsten.", "ovrigt", "socialforvaltningen", "public"),
    ("livsmedel", "Starta livsmedelsverksamhet", "Registrera livsmedelsanläggningen hos "
     "miljöförvaltningen minst två veckor innan start.", "miljo-halsa", "miljo", "public"),
    ("buller", "Buller från grannar", "Störande buller anmäls till miljöförvaltningen.",
     "miljo-halsa", "miljo", "public"),
    ("radon", "Radon i bostaden", "Mät radon under vinterhalvåret.", "miljo-halsa", "miljo",
     "public"),
    ("eldning", "Eldning av trädgårdsavfall", "Eldning av trädgårdsavfall är förbjuden inom "
     "tätort.", "miljo-halsa", "miljo", "public"),
    ("vattenkvalitet", "Dricksvatten och vattenkvalitet", "Dricksvattnet kontrolleras "
     "regelbundet.", "miljo-halsa", "miljo", "public"),
    ("bibliotek", "Bibliotekens öppettider", "Stadsbiblioteket har öppet alla dagar.",
     "kultur-fritid", "kultur-fritid", "public"),
    ("simhall", "Simhallen", "Simhallen erbjuder simskola för barn.", "kultur-fritid",
     "kultur-fritid", "public"),
    ("foreningsbidrag", "Bidrag till föreningar", "Föreningar kan söka aktivitetsbidrag två "
     "gånger om året.", "kultur-fritid", "kultur-fritid", "public"),
    ("lokalbokning", "Boka lokaler och idrottshallar", "Idrottshallar bokas i "
     "bokningssystemet.", "kultur-fritid", "kultur-fritid", "public"),
    ("kulturskola", "Kulturskolan", "Kulturskolan har kurser i musik, dans och teater.",
     "kultur-fritid", "kultur-fritid", "public"),
    ("ovriga-oppettider", "Medborgarcentrets öppettider", "Kristallen har öppet vardagar "
     "8–17. Servicepunkterna har kortare tider.", "ovrigt", "stadsbyggnad", "public"),
    ("e-legitimation", "Logga in med e-legitimation", "Kommunens e-tjänster kräver BankID "
     "eller Freja.", "ovrigt", "stadsbyggnad", "public"),
    ("allman-handling", "Begära ut allmän handling", "Alla har rätt att begära ut allmänna "
     "handlingar; sekretess prövas.", "ovrigt", "stadsbyggnad", "public"),
    ("synpunkter", "Lämna synpunkter och klagomål", "Synpunkter lämnas i e-tjänsten eller "
     "på telefon.", "synpunkt", "stadsbyggnad", "public"),
    ("valsedlar", "Val och röstning", "Förtidsröstning sker i Kristallen.", "ovrigt",
     "stadsbyggnad", "public"),
    ("vigsel", "Borgerlig vigsel", "Borgerlig vigsel bokas hos kommunen.", "ovrigt",
     "stadsbyggnad", "public"),
    ("internt-bygglov-ko", "Handläggningstider för bygglov (internt)", "Handläggningen av "
     "bygglovsärenden tar just nu tio veckor. Lova aldrig ett datum.", "bygglov",
     "stadsbyggnad", "internal"),
    ("internt-hot", "Hot mot personal (internt)", "Avbryt samtalet och kontakta "
     "säkerhetsansvarig.", "ovrigt", "socialforvaltningen", "internal"),
    ("internt-skyddad", "Skyddade personuppgifter (internt)", "Lämna aldrig ut adress för "
     "en person med skyddad identitet.", "ovrigt", "socialforvaltningen", "internal"),
    ("hundar", "Hundar i parker", "Hundar ska vara kopplade i kommunens parker.",
     "gator-trafik", "tekniska", "public"),
]

# (query, key of the article it must find in the top 3)
QUERIES = [
    ("bygglov", "bygglov"),
    ("bygglovet", "bygglov"),
    ("bygglovsansökan", "bygglov"),
    ("förskoleplatser", "forskoleplats"),
    ("forskoleplatser", "forskoleplats"),
    ("sophämtning", "sophamtning"),
    ("sophamtning", "sophamtning"),
    ("avfallet", "sophamtning"),
    ("snöröjningen", "snorojning"),
    ("snorojning", "snorojning"),
    ("parkeringstillstånd", "parkeringstillstand"),
    ("färdtjänsten", "fardtjanst"),
    ("fardtjanst", "fardtjanst"),
    ("hemtjänsten", "hemtjanst"),
    ("skolskjutsen", "skolskjuts"),
    ("återvinningscentralen", "atervinning"),
    ("rivningslovet", "rivning"),
    ("attefallshuset", "attefall"),
    ("detaljplanerna", "detaljplan"),
    ("biblioteket öppettider", "bibliotek"),
    ("simhallens", "simhall"),
    ("föreningsbidraget", "foreningsbidrag"),
    ("livsmedelsverksamheten", "livsmedel"),
    ("strandskyddsdispens", "strandskydd"),
    ("gatubelysningen", "gatubelysning"),
    ("klottret", "klotter"),
    ("orosanmälan", "oro-barn"),
    ("radonmätning", "radon"),
    ("ekonomiskt bistand", "bistand"),
    ("allmän handling", "allman-handling"),
]
