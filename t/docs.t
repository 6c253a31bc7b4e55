# SPDX-License-Identifier: BSD-2-Clause
# The documentation against the code (no nginx needed): every directive the
# module declares is documented in docs/directives.md in nginx's style with
# the context the code gives it, every variable is listed, every vendor in the
# registry has its page, every relative link and #anchor between the Markdown
# pages resolves, every repository path the pages name exists, every page is
# reachable from README.md, and README.md stays a front page.
use strict;
use warnings;

use File::Basename qw(dirname);
use File::Find;
use Test::More;

sub slurp {
    my ($file) = @_;
    open my $fh, '<', $file or die "$file: $!";
    local $/;
    return <$fh>;
}

# --- Markdown: headings and links outside code ---------------------------------

my %pages;    # path => { anchors => {slug => 1}, links => [[target, line]], text => ... }

# GitHub's heading ids: lower case, markup and punctuation dropped, spaces to
# hyphens, repeats numbered.
sub slug {
    my ($heading, $seen) = @_;
    (my $s = lc $heading) =~ s/`//g;
    $s =~ s/\[([^\]]*)\]\([^)]*\)/$1/g;
    $s =~ s/[^\w\- ]//g;
    $s =~ s/ /-/g;
    my $n = $seen->{$s}++;
    return $n ? "$s-$n" : $s;
}

sub read_page {
    my ($path) = @_;
    return $pages{$path} if $pages{$path};
    my $text = slurp($path);
    my (%anchors, %seen, @links, @prose);
    my $fence;
    my $line_no = 0;
    for my $line (split /\n/, $text) {
        $line_no++;
        if ($line =~ /^\s*(```+|~~~+)/) {
            $fence = defined $fence ? undef : $1;
            next;
        }
        next if defined $fence;
        push @prose, [$line, $line_no];
        $anchors{slug($1, \%seen)} = 1 if $line =~ /^#{1,6}\s+(.*?)\s*#*\s*$/;
        (my $no_code = $line) =~ s/`[^`]*`//g;
        push @links, [$1, $line_no] while $no_code =~ /\]\(([^)\s]+)\)/g;
    }
    return $pages{$path} = { anchors => \%anchors, links => \@links, prose => \@prose,
        text => $text };
}

my @markdown = grep { -f } ('README.md', 'HACKING.md');
find(sub { push @markdown, $File::Find::name if /\.md\z/ }, 'docs') if -d 'docs';
@markdown = sort @markdown;
ok(scalar(grep { m{^docs/} } @markdown), 'docs/ holds the pages');

# A link target as a path from the repository root, `..` folded.
sub resolve {
    my ($from, $target) = @_;
    my ($file, $anchor) = $target =~ /^([^#]*)(?:#(.*))?$/;
    return ($from, $anchor) if $file eq '';
    my @parts;
    for my $part (split m{/}, dirname($from) . "/$file") {
        next if $part eq '.' || $part eq '';
        if ($part eq '..' && @parts && $parts[-1] ne '..') { pop @parts } else { push @parts, $part }
    }
    my $path = join '/', @parts;
    $path .= '/README.md' if -d $path;
    return ($path, $anchor);
}

my %linked_from_readme;
for my $page (@markdown) {
    my @broken;
    for my $link (@{read_page($page)->{links}}) {
        my ($target, $line) = @$link;
        next if $target =~ /^(?:https?|mailto):/;
        my ($path, $anchor) = resolve($page, $target);
        if (!-e $path) {
            push @broken, "$page:$line: $target (no $path)";
        } elsif (defined $anchor && $path =~ /\.md\z/ && !read_page($path)->{anchors}{$anchor}) {
            push @broken, "$page:$line: $target (no heading #$anchor in $path)";
        }
    }
    ok(!@broken, "$page: every relative link and anchor resolves")
        or diag(join "\n", @broken);
}

# Every page is reachable from README.md by links.
my @queue = ('README.md');
my %reached = ('README.md' => 1);
while (my $page = shift @queue) {
    next unless -f $page && $page =~ /\.md\z/;
    for my $link (@{read_page($page)->{links}}) {
        next if $link->[0] =~ /^(?:https?|mailto):/;
        my ($path) = resolve($page, $link->[0]);
        push @queue, $path unless $reached{$path}++;
    }
}
my @orphans = grep { !$reached{$_} } @markdown;
ok(!@orphans, 'every page is reachable from README.md') or diag("not linked: @orphans");

# Repository paths named in the pages' prose exist (placeholders and build
# output aside), so a renamed file cannot leave a page pointing at nothing.
for my $page (@markdown) {
    my @missing;
    for my $prose (@{read_page($page)->{prose}}) {
        my ($line, $no) = @$prose;
        while ($line =~ /`((?:src|t|docs|mk|schema|tools|bench|packaging)\/[^`\s]+)`/g) {
            my $path = $1;
            next if $path =~ /[<>{}*%]|\.\.\./;
            $path =~ s/:\d+$//;
            push @missing, "$page:$no: $path" unless -e $path;
        }
    }
    ok(!@missing, "$page: every repository path it names exists") or diag(join "\n", @missing);
}

my $readme_lines = () = slurp('README.md') =~ /\n/g;
cmp_ok($readme_lines, '<=', 700, "README.md is a front page ($readme_lines lines)");

# --- directives and variables ----------------------------------------------------

# Each ngx_string("mailhook...") is a directive (an ngx_command_t: flags
# follow), a shared memory zone's name, or a variable's.
my (%directives, %variables, %zones);
for my $file (glob 'src/nginx/*.cpp') {
    my $code = slurp($file);
    while ($code =~ /ngx_string\("(mailhook\w*)"\)(?=([^;]*;[^;]*;))/g) {
        my ($name, $after) = ($1, $2);
        if ($after =~ /^,\s*((?:NGX_\w+\s*\|?\s*)+)/) {
            $directives{$name} = $1;
        } elsif ($after =~ /ngx_shared_memory_add/) {
            $zones{$name} = 1;
        } else {
            $variables{$name} = 1;
        }
    }
}
cmp_ok(scalar(keys %directives), '>=', 26, 'directives found in src/nginx');

my $reference = read_page('docs/directives.md');
my %documented;
for my $section (split /^(?=### )/m, $reference->{text}) {
    my ($name) = $section =~ /^### (mailhook\w*)\s*\n/ or next;
    $documented{$name} = $section;
}

my %context_of = (MAIN => 'http', SRV => 'server', LOC => 'location');
for my $name (sort keys %directives) {
    my $section = $documented{$name};
    ok($section, "$name has a section in docs/directives.md") or next;
    my ($block) = $section =~ /```\n(.*?)```/s;
    $block //= '';
    like($block, qr/^Syntax:\s+\Q$name\E[ ;]/m, "$name: Syntax line");
    like($block, qr/^Default:\s+\S/m, "$name: Default line");
    my @contexts = map { $context_of{$_} } grep { $context_of{$_} }
        $directives{$name} =~ /NGX_HTTP_(MAIN|SRV|LOC)_CONF/g;
    my $contexts = join ', ', @contexts;
    like($block, qr/^Context:\s+\Q$contexts\E\s*$/m, "$name: Context $contexts, as the code declares");
    my ($prose) = $section =~ /```\n.*?```\n(.*)/s;
    like($prose // '', qr/\w/, "$name: explained below its Syntax block");
}
my @stale = grep { !$directives{$_} } sort keys %documented;
ok(!@stale, 'docs/directives.md documents no directive the code lacks') or diag("@stale");

my $readme = slurp('README.md');
my @not_at_a_glance = grep { $readme !~ /\(docs\/directives\.md#\Q$_\E\)/ } sort keys %directives;
ok(!@not_at_a_glance, 'README.md links every directive into docs/directives.md')
    or diag("@not_at_a_glance");

my ($variables) = $reference->{text} =~ /^## Embedded variables\n(.*)/ms;
my @variables = sort keys %variables;
my @unlisted = grep { ($variables // '') !~ /`\$\Q$_\E`/ } @variables;
cmp_ok(scalar @variables, '>=', 11, 'variables found in src/nginx');
ok(!@unlisted, 'every variable is in docs/directives.md, Embedded variables')
    or diag("@unlisted");
my @unnamed = ((grep { $readme !~ /\$\Q$_\E\b/ } @variables),
    (grep { $readme !~ /\b\Q$_\E\b/ } sort keys %zones));
ok(!@unnamed, 'README.md names every variable and zone') or diag("@unnamed");
my $operations = slurp('docs/operations.md');
ok(!grep({ $operations !~ /`\Q$_\E`/ } keys %zones), 'docs/operations.md names the shared memory zones');

# Every metric the status page prints (the names in src/core's metrics
# writer) is in docs/operations.md's table.
my @families = map { slurp($_) =~ /"(mailhook_\w+)"/g } glob 'src/core/*metrics*.cpp';
my @undocumented = grep { $operations !~ /^\|[^\n]*`\Q$_\E`/m } sort @families;
ok(@families && !@undocumented, 'docs/operations.md lists every metric')
    or diag("@undocumented");

# Every answer label (core's rejection labels, the glue's own) is in the
# reason table of docs/endpoint.md.
my @labels = grep { $_ ne 'none' }
    slurp('src/core/verdict.cpp') =~ /case Rejection::\w+:\s*return "(\w+)";/g;
for my $file (glob 'src/nginx/*.cpp') {
    my $code = slurp($file);
    push @labels, $code =~ /\brejected\(ctx,\s*\w+,\s*"(\w+)"/g, $code =~ /error_body\("(\w+)"\)/g;
}
my $answers = slurp('docs/endpoint.md');
my @unexplained = grep { $answers !~ /^\| `\Q$_\E` \|/m } sort keys %{{ map { $_ => 1 } @labels }};
ok(@labels && !@unexplained, 'docs/endpoint.md explains every answer label')
    or diag("@unexplained");

# --- vendors ----------------------------------------------------------------------

my @vendors = slurp('src/core/vendor_registry.cpp') =~ /^\s*&(\w+)_vendor,/mg;
cmp_ok(scalar @vendors, '>=', 16, 'vendors found in the registry');
my $table = slurp('docs/vendors/README.md');
(my $control = slurp('packaging/debian/control')) =~ s/.*^Description:[^\n]*\n//ms;
my %control_words = map { s/\.//gr => 1 } split /[^\w.]+/, lc $control;
my @sections = ('Dashboard setup', 'Connection fields', 'Events and their mapping', 'Quirks',
    'Try it');
for my $vendor (@vendors) {
    my $page = "docs/vendors/$vendor.md";
    ok(-f $page, "$vendor has a page") or next;
    my @headings = read_page($page)->{text} =~ /^## (.*?)\s*$/mg;
    is_deeply(\@headings, \@sections, "$page has the five sections, in order");
    like($table, qr/^\| \[`\Q$vendor\E`\]\(\Q$vendor\E\.md\) \|/m,
        "$vendor is in the vendor table");
    # unisender_go is "Unisender Go" there
    ok($control_words{$vendor} || index(lc $control =~ s/\s+/ /gr, $vendor =~ tr/_/ /r) >= 0,
        "$vendor is named in packaging/debian/control");
}

# --- the design, as the code cites it ----------------------------------------------

my $design = read_page('docs/design.md')->{text};
my %design_sections = map { $_ => 1 } $design =~ /^#{2,3} (\d+(?:\.\d+)*)[ .]/mg;
my @citations;
find(sub {
    return unless -f && /\.(?:cpp|hpp|t|pm|pl)\z/;
    my $file = $File::Find::name;
    my $code = slurp($_);
    push @citations, map { [$file, $_] } $code =~ /docs\/design\.md [^\d\s]*(\d+(?:\.\d+)*)/g;
}, 'src', 't');
my @dangling = map { "$_->[0]: section $_->[1]" } grep { !$design_sections{$_->[1]} } @citations;
ok(@citations && !@dangling, 'every section of docs/design.md the code cites exists')
    or diag(join "\n", @dangling);
my ($endpoint) = $design =~ /^### 3\.1 Endpoint\n(.*?)^###/ms;
my @not_in_contract = grep { ($endpoint // '') !~ /`\Q$_\E`/ } @vendors;
ok(!@not_in_contract, 'docs/design.md 3.1 (endpoint) lists every vendor') or diag("@not_in_contract");

done_testing;
