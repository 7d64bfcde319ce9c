<?php
/*
 * TLD fields for domains registered through Tunnus (WHMCS's own mechanism: a registrar
 * module's resources/domains/additionalfields.php). WHMCS shows them in the cart and
 * passes them to RegisterDomain/TransferDomain as $params['additionalfields'][Name].
 *
 * Tunnus maps them to the registrant contact: "Registrant Type" is the contact's holder
 * type (entity_type), "Identity Number" its business/organisation number for an
 * organisation (FI Y-tunnus, SE organisationsnummer) or its identity code for a person
 * (FI henkilötunnus, SE personnummer). Traficom (.fi) and Internetstiftelsen (.se, .nu)
 * refuse a registrant without one; Tunnus checks the number for the registrant's country
 * and refuses the order before anything is charged. EURid (.eu) takes holders established
 * or resident in the EU, Iceland, Liechtenstein or Norway, and EU citizens anywhere
 * ("Country of Citizenship"); Tunnus refuses others up front.
 *
 * The Names are what Tunnus reads: keep them as they are (DisplayName and Description
 * may be translated or reworded).
 */

if (!defined('WHMCS')) {
    die('This file cannot be accessed directly');
}

$tunnusTypes = [
    'fi' => 'person|Private person,company|Company,association|Association,'
        . 'institution|Institution or foundation,political_party|Political party,'
        . 'municipality|Municipality,government|Government agency,'
        . 'public_community|Other public body',
    'se' => 'person|Private person,company|Company or other organisation',
    'eu' => 'person|Private person,company|Company or other organisation',
];
$tunnusNumber = [
    'fi' => 'Business ID (Y-tunnus, e.g. 1234567-8) for an organisation; personal identity '
        . 'code (henkilötunnus) for a private person.',
    'se' => 'Organisation number (organisationsnummer) for an organisation; personal identity '
        . 'number (personnummer) for a private person.',
];

foreach (['.fi' => 'fi', '.se' => 'se', '.nu' => 'se', '.eu' => 'eu'] as $tld => $rules) {
    $additionaldomainfields[$tld][] = [
        'Name' => 'Registrant Type',
        'DisplayName' => 'Registrant type',
        'Type' => 'dropdown',
        'Options' => $tunnusTypes[$rules],
        'Default' => 'person',
        'Required' => true,
        'Description' => 'Who will hold the domain.',
    ];
    if (isset($tunnusNumber[$rules])) {
        $additionaldomainfields[$tld][] = [
            'Name' => 'Identity Number',
            'DisplayName' => 'Identity number',
            'Type' => 'text',
            'Size' => '20',
            'Required' => true,
            'Description' => $tunnusNumber[$rules],
        ];
    }
}
unset($tunnusTypes, $tunnusNumber, $tld, $rules);

/*
 * .eu: EURid takes, besides undertakings, organisations and persons established or resident
 * in the EU, Iceland, Liechtenstein or Norway, any EU citizen wherever they live (EURid's
 * registration policy since 19 October 2019; Regulation (EU) 2019/517). A private person
 * living elsewhere gives the EU member state of their citizenship here; Tunnus stores it
 * on the registrant and refuses holders who are neither resident nor EU citizens.
 */
$additionaldomainfields['.eu'][] = [
    'Name' => 'Country of Citizenship',
    'DisplayName' => 'Country of citizenship (EU)',
    'Type' => 'dropdown',
    'Options' => '|Not needed: resident in the EU/EEA,AT|Austria,BE|Belgium,BG|Bulgaria,'
        . 'HR|Croatia,CY|Cyprus,CZ|Czechia,DK|Denmark,EE|Estonia,FI|Finland,FR|France,'
        . 'DE|Germany,GR|Greece,HU|Hungary,IE|Ireland,IT|Italy,LV|Latvia,LT|Lithuania,'
        . 'LU|Luxembourg,MT|Malta,NL|Netherlands,PL|Poland,PT|Portugal,RO|Romania,'
        . 'SK|Slovakia,SI|Slovenia,ES|Spain,SE|Sweden',
    'Default' => '',
    'Required' => false,
    'Description' => 'Only for a private person living outside the EU/EEA: the EU member '
        . 'state of which they are a citizen.',
];

/*
 * Trademark claims notices: a name matching a protected mark is registered only after the
 * registrant acknowledged the notice. RegisterDomain then fails with an error naming the
 * mark, its holder and the notice id; the id goes into this field and the registration is
 * run again. Add the TLDs you sell beyond Tunnus's default catalogue here.
 */
foreach (['.fi', '.se', '.nu', '.com', '.net', '.org', '.eu'] as $tld) {
    $additionaldomainfields[$tld][] = [
        'Name' => 'Claims Notice ID',
        'DisplayName' => 'Trademark claims notice',
        'Type' => 'text',
        'Size' => '40',
        'Required' => false,
        'Description' => 'Only when registering a name refused with a trademark claims notice: '
            . 'the notice id, after the registrant has read the notice.',
    ];
}
unset($tld);
