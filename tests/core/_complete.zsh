# Usage: zsh -f capture.zsh FOLDER/_hookline 'hookline ru'   (installed the documented way:
# the file _hookline in a folder of $fpath, found by compinit)
# Starts an interactive zsh on a pseudo-terminal with the completion script loaded, types
# the words, presses TAB and prints every candidate the completion system offered, one a
# line. The shell exits right after completing (comppostfuncs), so nothing is executed.
zmodload zsh/zpty
local script=$1 line=$2 home=$(mktemp -d)
cat > $home/.zshrc <<RC
PROMPT='> '
fpath=(${(q)script:h} \$fpath)
autoload -Uz compinit && compinit -u -d $home/.zcompdump
zstyle ':completion:*' list-grouped false
zstyle ':completion:*' insert-tab false
compadd() {
  if [[ \${@[1,(i)(-|--)]} == *-(O|A|D)\ * ]]; then builtin compadd "\$@"; return; fi
  local -a __hits
  builtin compadd -A __hits "\$@"
  local __hit
  for __hit in \$__hits; do print -r -- "<<\$__hit>>"; done
  return 0
}
comppostfuncs=(exit)
bindkey '^I' complete-word
zle-line-init() { print -n -- READY-\$((6*7)) }
zle -N zle-line-init
RC
zpty z "ZDOTDIR=$home zsh -i"
local out
zpty -r z out "*READY-42*"
zpty -w -n z "$line"$'\t'
while zpty -r z out; do
  for m in ${(f)out}; do [[ $m == *'<<'*'>>'* ]] && print -r -- ${${m#*<<}%%>>*}; done
done
zpty -d z 2>/dev/null
rm -rf $home
