// The console's front end: one Vue application for every role, routed by URL (a URL per ticket).
import { createApp } from 'vue';
import ElementPlus from 'element-plus';
import zhCn from 'element-plus/es/locale/lang/zh-cn';
import 'element-plus/dist/index.css';
import 'leaflet/dist/leaflet.css';
import './app.css';
import App from './App.vue';
import { router } from './router.js';

createApp(App).use(router).use(ElementPlus, { locale: zhCn }).mount('#app');
