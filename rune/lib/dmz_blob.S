/* rune-exec's ELF image (rune/dmz/rune-exec.c, built first), inside rune. */
	.section .rodata
	.balign 64
	.globl librune_dmz_elf
	.hidden librune_dmz_elf
librune_dmz_elf:
	.incbin RUNE_DMZ_ELF
	.globl librune_dmz_elf_end
	.hidden librune_dmz_elf_end
librune_dmz_elf_end:
	.section .note.GNU-stack,"",%progbits
