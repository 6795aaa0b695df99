# Rewrites the tables go-md2man makes (tbl: .TS ... .TE) so that a page
# reads well at 80 columns:
#  - every non-empty cell becomes a text block (T{ ... T}), which wraps:
#    go-md2man leaves short cells as plain tbl fields, which never wrap,
#    and a plain field holding a link breaks the row (the link's target
#    goes on a line of its own);
#  - the widest column (by its longest cell) takes all the width the
#    others leave (tbl's "x"); each other column gets the width of its
#    longest cell, capped at tbl's own share for text blocks (the line
#    over columns + 1) but never narrower than its longest word, so that
#    nothing has to break inside a word;
#  - text blocks are set ragged-right and not hyphenated: in a narrow cell
#    justification stretches spaces (troff warns "cannot adjust line") and
#    hyphens split short words ("re-quired") and names ("clus-ter.podCIDR");
#    code (go-md2man's \fC) is not broken at its own hyphens either ("a-z").
# The widths assume man's 80-column page (an indented line of 73); a wider
# terminal only widens the expanded column.
#   awk -f docs/man/tables.awk page.roff > page
BEGIN { LINE = 73; GAP = 3 }

function reset() { rows = 0; cols = 0; part = 0; inblock = 0 }

# The width of a cell's text on a terminal: font changes and \& take
# none, any other escape (\[la], \(em, \-, ...) one column.
function textwidth(s) {
	gsub(/\\f(\(..|\[[^]]*\]|.)/, "", s)
	gsub(/\\&/, "", s)
	gsub(/\\(\(..|\[[^]]*\]|.)/, "x", s)
	return length(s)
}

function addcell(s, n, i, words, w) {
	cols_in_row[rows]++
	cell[rows, cols_in_row[rows]] = s
	n = split(s, words, /[ \t\n]+/)
	for (i = 1; i <= n; i++) {
		w = textwidth(words[i])
		if (w > word[cols_in_row[rows]])
			word[cols_in_row[rows]] = w
	}
	gsub(/\n/, " ", s)
	w = textwidth(s)
	if (w > longest[cols_in_row[rows]])
		longest[cols_in_row[rows]] = w
}

# One line of data outside a text block: tab-separated fields, the last
# of which may open a text block ("T{" ends the line).
function fields(s, n, i, f) {
	n = split(s, f, "\t")
	for (i = 1; i <= n; i++) {
		if (i == n && f[i] == "T{") {
			inblock = 1
			block = ""
			return
		}
		addcell(f[i])
	}
	endrow()
}

function endrow() {
	if (cols_in_row[rows] > cols)
		cols = cols_in_row[rows]
	rows++
	cols_in_row[rows] = 0
}

function flush(r, c, wide, share, spec, w, s, line) {
	wide = 1
	for (c = 2; c <= cols; c++)
		if (longest[c] > longest[wide])
			wide = c
	share = int((LINE - GAP * cols) / (cols + 1))
	spec = ""
	for (c = 1; c <= cols; c++) {
		if (c == wide) {
			spec = spec "lx "
			continue
		}
		w = longest[c] < share ? longest[c] : share
		if (word[c] > w)
			w = word[c]
		spec = spec "lw(" w ") "
	}
	# Adjustment and hyphenation are restored after the table from the
	# registers that hold them.
	print ".nr tbl*adjust \\n(.j"
	print ".nr tbl*hyphen \\n[.hy]"
	print ".ad l"
	print ".nh"
	print ".TS"
	print options
	print spec "."
	for (r = 0; r < rows; r++) {
		line = ""
		for (c = 1; c <= cols; c++) {
			s = (r, c) in cell ? cell[r, c] : ""
			if (c > 1)
				line = line "\t"
			if (s == "")
				continue
			# A line of a block starting with . or ' would be a request.
			if (s ~ /^[.']/)
				s = "\\&" s
			gsub(/\\fC/, "\\\\fC\\\\%", s)
			line = line "T{\n" s "\nT}"
		}
		print line
	}
	print ".TE"
	print ".ad \\n[tbl*adjust]"
	print ".hy \\n[tbl*hyphen]"
	for (r = 0; r <= rows; r++) {
		delete cols_in_row[r]
		for (c = 1; c <= cols; c++)
			delete cell[r, c]
	}
	for (c = 1; c <= cols; c++) {
		delete word[c]
		delete longest[c]
	}
	reset()
}

/^\.TS/ && !intable {
	intable = 1
	reset()
	cols_in_row[0] = 0
	options = ""
	next
}

!intable { print; next }

# The options line ends with ";", the format lines end with ".": the
# format is made again from the cells.
part == 0 {
	if ($0 ~ /;[ \t]*$/) {
		options = $0
		next
	}
	part = 1
}
part == 1 {
	if ($0 ~ /\.[ \t]*$/)
		part = 2
	next
}

inblock {
	if ($0 ~ /^T}/) {
		inblock = 0
		addcell(block)
		rest = substr($0, 3)
		if (rest == "")
			endrow()
		else
			fields(substr(rest, 2))
	} else {
		block = block == "" ? $0 : block "\n" $0
	}
	next
}

/^\.TE/ {
	flush()
	intable = 0
	next
}

{ fields($0) }
