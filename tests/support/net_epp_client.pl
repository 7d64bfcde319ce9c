#!/usr/bin/perl
# Drives the sandbox EPP server with Debian's Net::EPP::Client (libnet-epp-perl): an
# independent client. Prints one "step code [detail]" line per command.
# usage: net_epp_client.pl HOST PORT CA CERT KEY CLID PW NEW_NAME FOREIGN_NAME FOREIGN_AUTH
use strict;
use warnings;
use Net::EPP::Client;
use Net::EPP::Frame::Command::Login;
use Net::EPP::Frame::Command::Logout;
use Net::EPP::Frame::Command::Check::Domain;
use Net::EPP::Frame::Command::Create::Domain;
use Net::EPP::Frame::Command::Info::Domain;
use Net::EPP::Frame::Command::Transfer::Domain;
use Net::EPP::Frame::Command::Poll::Req;

my ($host, $port, $ca, $cert, $key, $clid, $pw, $name, $foreign, $auth) = @ARGV;
my $n = 0;

my $epp = Net::EPP::Client->new(host => $host, port => $port, ssl => 1, frames => 1);
my $greeting = $epp->connect(SSL_ca_file => $ca, SSL_cert_file => $cert,
                             SSL_key_file => $key, SSL_verifycn_name => 'localhost',
                             SSL_verify_mode => 1, Timeout => 10);
my @uris = map { $_->textContent } $greeting->getElementsByTagName('objURI');
print "greeting ", scalar(@uris), "\n";

sub send_command {
    my ($step, $frame) = @_;
    $frame->clTRID->appendText(sprintf('PERL-%d-%d', $$, ++$n));
    my $answer = $epp->request($frame);
    my $code = $answer->getElementsByTagName('result')->[0]->getAttribute('code');
    return ($code, $answer);
}

sub first_text {
    my ($doc, $tag) = @_;
    my $node = $doc->getElementsByTagName($tag)->[0];
    return defined($node) ? $node->textContent : '-';
}

my $login = Net::EPP::Frame::Command::Login->new;
$login->clID->appendText($clid);
$login->pw->appendText($pw);
$login->version->appendText('1.0');
$login->lang->appendText('en');
foreach my $uri (@uris) {
    my $el = $login->createElement('objURI');
    $el->appendText($uri);
    $login->svcs->appendChild($el);
}
my ($code) = send_command('login', $login);
print "login $code\n";

my $check = Net::EPP::Frame::Command::Check::Domain->new;
$check->addDomain($name);
my ($check_code, $checked) = send_command('check', $check);
my $avail = $checked->getElementsByTagName('domain:name')->[0]->getAttribute('avail');
print "check $check_code $avail\n";

my $create = Net::EPP::Frame::Command::Create::Domain->new;
$create->setDomain($name);
$create->setPeriod(1);
$create->setNS('ns1.example.net', 'ns2.example.net');
$create->setRegistrant('TNPERL1');
$create->setContacts({admin => 'TNPERL1'});
$create->setAuthInfo('Perl-koodi-1');
my ($create_code, $created) = send_command('create', $create);
print "create $create_code ", first_text($created, 'domain:exDate'), "\n";

my $info = Net::EPP::Frame::Command::Info::Domain->new;
$info->setDomain($name);
my ($info_code, $found) = send_command('info', $info);
print "info $info_code ", first_text($found, 'domain:clID'), " ",
      first_text($found, 'domain:registrant'), "\n";

my $transfer = Net::EPP::Frame::Command::Transfer::Domain->new;
$transfer->setOp('request');
$transfer->setDomain($foreign);
$transfer->setAuthInfo($auth);
my ($transfer_code, $asked) = send_command('transfer', $transfer);
print "transfer $transfer_code ", first_text($asked, 'domain:trStatus'), "\n";

my $query = Net::EPP::Frame::Command::Transfer::Domain->new;
$query->setOp('query');
$query->setDomain($foreign);
my ($query_code, $queried) = send_command('query', $query);
print "query $query_code ", first_text($queried, 'domain:trStatus'), "\n";

my ($poll_code) = send_command('poll', Net::EPP::Frame::Command::Poll::Req->new);
print "poll $poll_code\n";

my ($logout_code) = send_command('logout', Net::EPP::Frame::Command::Logout->new);
print "logout $logout_code\n";
$epp->disconnect;
