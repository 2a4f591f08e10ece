// Package lint holds tests over the whole module: the layering of
// DESIGN.md §3 and the house rules a reviewer should not have to check by
// hand. It has no code of its own.
package lint
