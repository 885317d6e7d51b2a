#include "../../fomgr/netstate.c"
int main(void){return 0;}
