# Usage: bash _complete.bash COMPLETION_SCRIPT hookline WORD... CURRENT_WORD
# Sources the script as bash-completion would, fills COMP_WORDS/COMP_CWORD/COMP_LINE the
# way readline does when TAB is pressed after the last word, calls the function that
# `complete -p hookline` names, and prints COMPREPLY, one candidate a line.
source "$1"
shift
spec=$(complete -p hookline) || exit 3
fn=$(sed -E 's/.*-F ([^ ]+).*/\1/' <<<"$spec")
COMP_WORDS=("$@")
COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
COMP_LINE="${COMP_WORDS[*]}"
COMP_POINT=${#COMP_LINE}
"$fn" hookline "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD - 1]}"
printf '%s\n' "${COMPREPLY[@]}"
