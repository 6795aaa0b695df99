# bash completion for testbed                                -*- shell-script -*-
# Installed by make install as $(BASHCOMPDIR)/testbed, where bash-completion
# loads it on the first TAB; without bash-completion, source it from ~/.bashrc.
#
# Commands and each command's options are read from `testbed --help` and
# `testbed COMMAND --help` at completion time, so they cannot drift from the
# program. The --format values are prose in that help, too loose to parse on
# every TAB: they live in _testbed_formats, and tests/bats/completion.bats
# compares them with --help.
#
# Lab and machine names come from `testbed status`, run as the user who
# presses TAB: labs' state is root's, so they show up in a root shell.

# The --format values of COMMAND, the default first.
_testbed_formats() {
	case $1 in
	check) echo "text json junit tap markdown" ;;
	plan) echo "sh json" ;;
	graph) echo "mermaid dot" ;;
	esac
}

# Adds each argument that starts with $cur to COMPREPLY.
_testbed_add() {
	local w
	for w in "$@"; do
		[[ $w == "$cur"* ]] && COMPREPLY+=("$w")
	done
	return 0
}

# Whether $1 is one of the other arguments.
_testbed_in() {
	local w=$1 other
	shift
	for other in "$@"; do
		[[ $other == "$w" ]] && return 0
	done
	return 1
}

# Runs the testbed being completed: the word typed, so that bin/testbed
# completes from its own help. No such program, no root or no lab only mean
# nothing to offer, hence no error output.
_testbed_run() {
	local prog=${words[0]}
	[[ $prog == \~/* ]] && prog=$HOME/${prog#\~/}
	command -v -- "$prog" >/dev/null 2>&1 || return 1
	"$prog" "$@" 2>/dev/null </dev/null
}

# The commands listed under "Commands:" in testbed --help, one a line.
_testbed_commands() {
	local line listed=''
	while IFS= read -r line; do
		if [[ $line == Commands: ]]; then
			listed=1
		elif [[ $listed && $line =~ ^\ \ ([a-z]+)\  ]]; then
			echo "${BASH_REMATCH[1]}"
		elif [[ $listed ]]; then
			break
		fi
	done < <(_testbed_run --help)
}

# COMMAND's options from its help lines "  [-v, ]--name [ARG]   text", one
# a line, followed by ARG when they take one.
_testbed_options() {
	local help line re='^  (-[a-zA-Z], )?(--[a-z][a-z-]*)( [A-Z]+)?( |$)'
	# No help, no command: nothing to offer, not even --help.
	help=$(_testbed_run "$1" --help) || return 0
	echo --help
	while IFS= read -r line; do
		[[ $line =~ $re ]] || continue
		[[ ${BASH_REMATCH[1]} ]] && echo "${BASH_REMATCH[1]%, }${BASH_REMATCH[3]}"
		echo "${BASH_REMATCH[2]}${BASH_REMATCH[3]}"
	done <<<"$help"
}

# The option that the word $1 names, among the other arguments: exact, or a
# unique abbreviation of a long one, as getopt_long takes them.
_testbed_option_name() {
	local w=$1 o hit=''
	shift
	for o in "$@"; do
		[[ $o == "$w" ]] && { echo "$o"; return 0; }
	done
	[[ $w == --?* ]] || return 1
	for o in "$@"; do
		if [[ $o == "$w"* ]]; then
			[[ $hit ]] && return 1
			hit=$o
		fi
	done
	[[ $hit ]] && echo "$hit"
}

# A word as typed (~/x, 'a b', a\ b) as the shell would pass it, short of
# eval, which completion must never do.
_testbed_dequote() {
	local v=$1
	case $v in
	\'*\' | \"*\") v=${v:1:${#v}-2} ;;
	*) v=${v//\\/} ;;
	esac
	[[ $v == \~ || $v == \~/* ]] && v=$HOME${v:1}
	printf '%s\n' "$v"
}

# Lab names, from the lines "lab NAME: PHASE (TOPOLOGY)" of testbed status.
# $state_dir: the --state-dir options given on the line, if any.
_testbed_labs() {
	local line
	while IFS= read -r line; do
		[[ $line =~ ^lab\ ([^:\ ]+):\  ]] && echo "${BASH_REMATCH[1]}"
	done < <(_testbed_run status "${state_dir[@]}")
}

# The machines of lab $1 whose kind is one of the other arguments, from
# the table under "NAME KIND ..." in testbed status NAME.
_testbed_machines() {
	local lab=$1 name kind table=''
	shift
	while read -r name kind _; do
		if [[ $name == NAME && $kind == KIND ]]; then
			table=1
		elif [[ $table ]] && _testbed_in "$kind" "$@"; then
			echo "$name"
		fi
	done < <(_testbed_run status "${state_dir[@]}" -- "$lab")
}

# Files for FILE operands and --output: bash-completion's _filedir when
# there (it quotes, expands ~ and handles spaces), else compgen. $1: an
# extension to keep, -d for directories only, nothing for any file.
_testbed_files() {
	if declare -F _filedir >/dev/null; then
		_filedir "$@"
		return 0
	fi
	# Outside a completion (a test calling _testbed), compopt complains.
	compopt -o filenames 2>/dev/null
	case ${1-} in
	-d) mapfile -t -O "${#COMPREPLY[@]}" COMPREPLY < <(compgen -d -- "$cur") ;;
	'') mapfile -t -O "${#COMPREPLY[@]}" COMPREPLY < <(compgen -f -- "$cur") ;;
	*) mapfile -t -O "${#COMPREPLY[@]}" COMPREPLY < <(
		compgen -f -X "!*.$1" -- "$cur"
		compgen -d -- "$cur"
	) ;;
	esac
	return 0
}

# The command exec runs, from word $1 on: completed as a command line of
# its own (bash-completion's _command_offset), or as commands then files.
_testbed_command_line() {
	if declare -F _command_offset >/dev/null; then
		_command_offset "${word_index[$1]}"
	elif (($1 == cword)); then
		mapfile -t COMPREPLY < <(compgen -c -- "$cur" | sort -u)
	else
		_testbed_files
	fi
}

# COMP_WORDS has --opt=value in three words ("--opt" "=" "value", since =
# is in COMP_WORDBREAKS): joined back here into one, as the program sees
# it. word_index keeps each word's index in COMP_WORDS, for _command_offset.
_testbed_split_words() {
	local i w n
	words=() word_index=() cword=0
	for ((i = 0; i < ${#COMP_WORDS[@]}; i++)); do
		w=${COMP_WORDS[i]}
		n=${#words[@]}
		if ((n)) && [[ ($w == = && ${words[n - 1]} == --[a-z]* && ${words[n - 1]} != *=*) ||
			(${words[n - 1]} == --*= && ${COMP_WORDS[i - 1]} == =) ]]; then
			words[n - 1]+=$w
		else
			words+=("$w")
			word_index+=("$i")
		fi
		((i == COMP_CWORD)) && cword=$((${#words[@]} - 1))
	done
	if ((COMP_CWORD >= ${#COMP_WORDS[@]})); then
		words+=("")
		word_index+=("$COMP_CWORD")
		cword=$((${#words[@]} - 1))
	fi
	cur=${words[cword]}
}

_testbed() {
	# shellcheck disable=SC2034 # prev and split: _init_completion sets them
	local cur prev words cword split
	# bash-completion's _init_completion handles redirections (and returns 1
	# when it did); its words are not used, so that the parsing below is the
	# same with bash-completion or without.
	if declare -F _init_completion >/dev/null; then
		_init_completion -n = || return 0
	fi
	COMPREPLY=()
	local -a word_index=() state_dir=() opts=() argopts=() operands=()
	_testbed_split_words
	# The value being typed in --opt=value.
	local split_opt=''
	if [[ $cur == --?*=* ]]; then
		split_opt=${cur%%=*}
		cur=${cur#*=}
	fi

	if ((cword == 1)); then
		if [[ $cur == -* ]]; then
			_testbed_add --help --version
		else
			local -a commands
			mapfile -t commands < <(_testbed_commands)
			_testbed_add "${commands[@]}"
		fi
		return 0
	fi
	local command=${words[1]}
	case $command in
	-*) return 0 ;;
	help)
		if ((cword == 2)); then
			local -a commands
			mapfile -t commands < <(_testbed_commands)
			_testbed_add "${commands[@]}"
		fi
		return 0
		;;
	esac

	local o a
	while read -r o a; do
		opts+=("$o")
		[[ $a ]] && argopts+=("$o")
	done < <(_testbed_options "$command")

	# Operands so far, skipping options and their arguments. Options may
	# follow operands, except for exec: its options come before NAME, and
	# what follows TARGET is the command it runs.
	local i w name stop=0 arg_of='' command_at=''
	for ((i = 2; i < cword; i++)); do
		w=${words[i]}
		if ((!stop)) && [[ $w == -- ]]; then
			stop=1
			continue
		fi
		if ((!stop)) && [[ $w == -?* ]]; then
			name=$(_testbed_option_name "${w%%=*}" "${opts[@]}")
			if [[ $w != *=* ]] && _testbed_in "$name" "${argopts[@]}"; then
				if ((i + 1 == cword)); then
					arg_of=$name
					break
				fi
				((i++))
				w=$name=${words[i]}
			fi
			[[ $name == --state-dir && $w == *=* ]] &&
				state_dir=(--state-dir "$(_testbed_dequote "${w#*=}")")
			continue
		fi
		operands+=("$w")
		if [[ $command == exec ]]; then
			stop=1
			if ((${#operands[@]} == 2)); then
				command_at=$((i + 1))
				break
			fi
		fi
	done

	if [[ $command_at ]]; then
		if ((command_at < cword)) && [[ ${words[command_at]} == -- ]]; then
			((command_at++))
		elif ((command_at == cword)) && [[ $cur == -* ]]; then
			_testbed_add --
			return 0
		fi
		_testbed_command_line "$command_at"
		return 0
	fi

	if [[ $split_opt && ! $arg_of ]] && ((!stop)); then
		arg_of=$(_testbed_option_name "$split_opt" "${opts[@]}")
	fi
	if [[ $arg_of ]]; then
		case $arg_of in
		--format)
			local -a formats
			read -ra formats <<<"$(_testbed_formats "$command")"
			_testbed_add "${formats[@]}"
			;;
		--state-dir) _testbed_files -d ;;
		--output) _testbed_files ;;
		--expect) _testbed_files json ;;
		esac
		return 0
	fi

	if [[ $cur == -* ]] && ((!stop)); then
		_testbed_add "${opts[@]}"
		return 0
	fi

	local -a names
	case $command:${#operands[@]} in
	validate:0 | up:0)
		_testbed_files json
		;;
	down:0 | check:0 | plan:0 | graph:0)
		mapfile -t names < <(_testbed_labs)
		_testbed_add "${names[@]}"
		_testbed_files json
		;;
	status:0 | exec:0 | trace:0 | apply:0 | delete:0)
		mapfile -t names < <(_testbed_labs)
		_testbed_add "${names[@]}"
		;;
	apply:* | delete:*)
		# kubectl's manifests: YAML or JSON.
		if declare -F _filedir >/dev/null; then
			_filedir '@(yaml|yml|json)'
		else
			compopt -o filenames 2>/dev/null
			mapfile -t -O "${#COMPREPLY[@]}" COMPREPLY < <(
				compgen -f -X '!*.yaml' -- "$cur"
				compgen -f -X '!*.yml' -- "$cur"
				compgen -f -X '!*.json' -- "$cur"
				compgen -d -- "$cur"
			)
		fi
		;;
	exec:1)
		mapfile -t names < <(_testbed_machines "${operands[0]}" pod node host gateway lab)
		_testbed_add "${names[@]}"
		;;
	trace:1 | trace:2)
		mapfile -t names < <(_testbed_machines "${operands[0]}" pod node host gateway)
		_testbed_add "${names[@]}"
		;;
	check:1 | check:2)
		# check --explain NAME FROM TO: the lab's machines.
		if [[ " ${COMP_WORDS[*]} " == *" --explain "* ]]; then
			mapfile -t names < <(_testbed_machines "${operands[0]}" pod node host gateway external)
			_testbed_add "${names[@]}"
		fi
		;;
	esac
	return 0
} && complete -F _testbed testbed
